// HttpClient: a minimal HTTP/1.1 client for the exporter thread — POST over one
// keep-alive TCP connection, Content-Length or chunked responses. No TLS.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace pyrometer::agent {

// An `http://host[:port]/path` URL. Only plain http is supported: https URLs
// are rejected by parse() with a message saying so (docs/architecture.md).
struct HttpUrl {
  std::string host;
  uint16_t port = 80;
  std::string path = "/";

  static common::Status parse(std::string_view url, HttpUrl* out);
};

struct HttpResponse {
  int status = 0;
  std::string body;
  // Seconds from a `Retry-After: <seconds>` header; -1 when absent or an
  // HTTP-date (dates are treated as absent: the exporter then backs off itself).
  int retry_after_s = -1;
};

// Not thread-safe: one instance belongs to one thread (the exporter's).
// Reuses its connection while the server keeps it open; reconnects once when a
// reused connection turns out to be closed by the peer before any response byte.
class HttpClient {
 public:
  struct Options {
    std::chrono::milliseconds connect_timeout{2000};
    std::chrono::milliseconds read_timeout{10000};
    size_t max_response_bytes = 1 << 20;  // bodies above this are an error
  };

  HttpClient() = default;
  explicit HttpClient(Options opts) : opts_(opts) {}
  ~HttpClient() { close(); }
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one POST and reads the whole response. Returns non-ok (kUnavailable)
  // on connection/timeout/protocol errors; any HTTP status is an ok Status.
  common::Status post(const HttpUrl& url,
                      const std::vector<std::pair<std::string, std::string>>& headers,
                      std::string_view body, HttpResponse* out);

  // Replaces the timeouts for the next requests (shutdown shortens them).
  void set_options(Options opts) { opts_ = opts; }

  // Closes the connection (if any).
  void close();

  // Forgets the connection without talking to it: used in a forked child,
  // whose copy of the parent's socket must never carry a request.
  void abandon_after_fork();

 private:
  common::Status connect_to(const HttpUrl& url);
  // `flags` are added to send()'s (MSG_MORE: more data follows at once).
  common::Status send_all(std::string_view data, int flags = 0);
  common::Status read_response(HttpResponse* out, bool* got_any_byte);
  common::Status fill(bool* eof);  // reads more bytes into buf_

  Options opts_;
  int fd_ = -1;
  std::string conn_host_;
  uint16_t conn_port_ = 0;
  std::string buf_;  // bytes read but not consumed
};

}  // namespace pyrometer::agent
