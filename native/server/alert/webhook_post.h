// One webhook delivery: an HTTP/1.1 POST of a JSON body to an http:// or
// https:// URL, with TLS peer and host-name verification for https.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace pyrometer::server::alert {

struct PostOptions {
  int timeout_ms = 5000;  // per step: connect, TLS handshake, send, answer
  // PEM file of extra trusted CA certificates (a private CA), trusted in
  // addition to the system store. Empty: the system store only.
  std::string ca_file;
};

// Why a POST failed, beyond its Status.
struct PostOutcome {
  // The receiver's certificate chain or host name did not verify (untrusted
  // CA, expired, wrong name). Never set for plain http://.
  bool tls_verify_failed = false;
};

// Ok for "http://host[:port]/path" and "https://host[:port]/path" (IPv6 in
// brackets); InvalidArgument with the reason otherwise. No network.
common::Status check_webhook_url(std::string_view url);

// Loads `path` as PEM CA certificates the way a POST would; InvalidArgument
// naming the file when it is unreadable or holds no certificate. For the
// server to fail fast at start.
common::Status check_ca_file(const std::string& path);

// One POST. https verifies the peer's chain against the system trust store
// (plus options.ca_file) and its name against the URL host (SNI sent for
// names, IP SAN checked for addresses). Ok only for a 2xx answer; Unavailable
// otherwise (and `outcome`, if given, says whether TLS verification failed).
// Blocking; reentrant; throws nothing.
common::Status http_post_json(const std::string& url, const std::string& body,
                              const PostOptions& options, PostOutcome* outcome = nullptr);

// The URL without its path and query ("https://hooks.slack.com/…"): webhook
// paths often carry a secret (Slack's do), so logs show only this.
std::string redact_webhook_url(std::string_view url);

}  // namespace pyrometer::server::alert
