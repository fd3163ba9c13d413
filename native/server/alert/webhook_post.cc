// Webhook POST on Boost.Beast: plain TCP for http://, OpenSSL through
// Boost.Asio SSL for https:// (peer chain + host name verified, SNI set).
#include "server/alert/webhook_post.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <exception>
#include <fstream>
#include <optional>

namespace pyrometer::server::alert {

namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using common::Status;

struct Url {
  bool tls = false;
  std::string host;         // brackets stripped
  std::string port;         // 80 / 443 unless given
  std::string host_header;  // as written in the URL
  std::string target;       // path and query, at least "/"
};

Status parse_url(std::string_view url, Url* out) {
  std::string_view rest;
  if (url.rfind("https://", 0) == 0) {
    out->tls = true;
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else {
    return Status::invalid_argument("webhook URL must start with http:// or https://");
  }
  size_t slash = rest.find_first_of("/?");
  std::string_view hostport = rest.substr(0, slash);
  out->target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (out->target[0] == '?') out->target.insert(0, "/");
  if (hostport.find('@') != std::string_view::npos) {
    return Status::invalid_argument("webhook URL must not carry user:password@");
  }
  out->host_header = std::string(hostport);
  std::string_view port;
  if (!hostport.empty() && hostport[0] == '[') {
    size_t close = hostport.find(']');
    if (close == std::string_view::npos) return Status::invalid_argument("unclosed [ in host");
    out->host = std::string(hostport.substr(1, close - 1));
    std::string_view after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return Status::invalid_argument("junk after ] in host");
      port = after.substr(1);
    }
  } else {
    size_t colon = hostport.rfind(':');
    out->host = std::string(hostport.substr(0, colon));
    if (colon != std::string_view::npos) port = hostport.substr(colon + 1);
  }
  if (out->host.empty()) return Status::invalid_argument("webhook URL has no host");
  if (port.empty()) {
    out->port = out->tls ? "443" : "80";
  } else {
    for (char c : port) {
      if (c < '0' || c > '9') return Status::invalid_argument("webhook URL port is not a number");
    }
    if (port.size() > 5 || std::stoul(std::string(port)) > 65535 ||
        std::stoul(std::string(port)) == 0)
      return Status::invalid_argument("webhook URL port out of range");
    out->port = std::string(port);
  }
  return Status::ok_status();
}

// Runs one asynchronous step to completion on `ioc`; the tcp_stream's
// expiry turns a stalled step into beast::error::timeout.
template <class Start>
beast::error_code run_step(net::io_context& ioc, beast::tcp_stream& tcp, int timeout_ms,
                           Start&& start) {
  beast::error_code result = net::error::operation_aborted;
  tcp.expires_after(std::chrono::milliseconds(timeout_ms));
  start([&result](beast::error_code ec, auto&&...) { result = ec; });
  ioc.restart();
  ioc.run();
  return result;
}

Status step_error(const char* what, const beast::error_code& ec) {
  return Status::unavailable(std::string(what) + ": " + ec.message());
}

// Writes the request and reads the answer's status line and headers.
template <class Stream>
Status exchange(net::io_context& ioc, beast::tcp_stream& tcp, Stream& stream, const Url& u,
                const std::string& body, int timeout_ms) {
  bhttp::request<bhttp::string_body> req{bhttp::verb::post, u.target, 11};
  req.set(bhttp::field::host, u.host_header);
  req.set(bhttp::field::user_agent, "pyrometer-server");
  req.set(bhttp::field::content_type, "application/json");
  req.set(bhttp::field::connection, "close");
  req.body() = body;
  req.prepare_payload();
  beast::error_code ec = run_step(ioc, tcp, timeout_ms, [&](auto handler) {
    bhttp::async_write(stream, req, std::move(handler));
  });
  if (ec) return step_error("send failed", ec);
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::empty_body> parser;
  ec = run_step(ioc, tcp, timeout_ms, [&](auto handler) {
    bhttp::async_read_header(stream, buffer, parser, std::move(handler));
  });
  if (ec) return step_error("no answer", ec);
  unsigned status = parser.get().result_int();
  if (status < 200 || status > 299) return Status::unavailable("HTTP " + std::to_string(status));
  return Status::ok_status();
}

// Trust: the system store, plus `ca_file` when set.
Status make_context(const std::string& ca_file, std::optional<ssl::context>* out) {
  out->emplace(ssl::context::tls_client);
  ssl::context& ctx = **out;
  beast::error_code ec;
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  ctx.set_verify_mode(ssl::verify_peer, ec);
  if (!ec) ctx.set_default_verify_paths(ec);
  if (ec) return Status::internal("TLS setup: " + ec.message());
  if (!ca_file.empty()) {
    if (!std::ifstream(ca_file).good()) {
      return Status::invalid_argument("cannot read CA file " + ca_file);
    }
    ctx.load_verify_file(ca_file, ec);
    if (ec) {
      return Status::invalid_argument(
          "CA file " + ca_file + " is unreadable or holds no PEM certificate: " + ec.message());
    }
  }
  return Status::ok_status();
}

Status post_once(const Url& u, const std::string& body, const PostOptions& opts,
                 PostOutcome* outcome) {
  net::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::error_code ec;
  auto endpoints = resolver.resolve(u.host, u.port, ec);
  if (ec) return Status::unavailable("cannot resolve " + u.host + ": " + ec.message());
  if (!u.tls) {
    beast::tcp_stream tcp(ioc);
    ec = run_step(ioc, tcp, opts.timeout_ms,
                  [&](auto handler) { tcp.async_connect(endpoints, std::move(handler)); });
    if (ec) return step_error("connect failed", ec);
    return exchange(ioc, tcp, tcp, u, body, opts.timeout_ms);
  }
  std::optional<ssl::context> ctx;
  Status st = make_context(opts.ca_file, &ctx);
  if (!st.ok()) return st;
  beast::ssl_stream<beast::tcp_stream> stream(ioc, *ctx);
  beast::tcp_stream& tcp = beast::get_lowest_layer(stream);
  SSL* ssl_handle = stream.native_handle();
  // Host names get SNI and a DNS-name check; literal addresses (no SNI
  // allowed, RFC 6066) are checked against the certificate's IP SANs.
  beast::error_code addr_ec;
  net::ip::make_address(u.host, addr_ec);
  bool name_ok;
  if (addr_ec) {
    SSL_set_hostflags(ssl_handle, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    name_ok = SSL_set_tlsext_host_name(ssl_handle, u.host.c_str()) == 1 &&
              SSL_set1_host(ssl_handle, u.host.c_str()) == 1;
  } else {
    name_ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_handle), u.host.c_str()) == 1;
  }
  if (!name_ok) return Status::internal("TLS setup: cannot set the expected host " + u.host);
  ec = run_step(ioc, tcp, opts.timeout_ms,
                [&](auto handler) { tcp.async_connect(endpoints, std::move(handler)); });
  if (ec) return step_error("connect failed", ec);
  ec = run_step(ioc, tcp, opts.timeout_ms, [&](auto handler) {
    stream.async_handshake(ssl::stream_base::client, std::move(handler));
  });
  if (ec) {
    long verify = SSL_get_verify_result(ssl_handle);
    if (verify != X509_V_OK) {
      if (outcome != nullptr) outcome->tls_verify_failed = true;
      return Status::unavailable(std::string("TLS certificate verification failed: ") +
                                 X509_verify_cert_error_string(verify));
    }
    return step_error("TLS handshake failed", ec);
  }
  st = exchange(ioc, tcp, stream, u, body, opts.timeout_ms);
  tcp.close();  // Connection: close; no close_notify wait for a notification
  return st;
}

}  // namespace

Status check_webhook_url(std::string_view url) {
  Url u;
  return parse_url(url, &u);
}

Status check_ca_file(const std::string& path) {
  try {
    std::optional<ssl::context> ctx;
    return make_context(path, &ctx);
  } catch (const std::exception& e) {
    return Status::internal(std::string("TLS setup: ") + e.what());
  }
}

Status http_post_json(const std::string& url, const std::string& body, const PostOptions& options,
                      PostOutcome* outcome) {
  Url u;
  Status st = parse_url(url, &u);
  if (!st.ok()) return st;
  // Asio reports allocation and context failures as exceptions; none may
  // escape to the sender thread.
  try {
    return post_once(u, body, options, outcome);
  } catch (const std::exception& e) {
    return Status::unavailable(std::string("webhook POST: ") + e.what());
  }
}

std::string redact_webhook_url(std::string_view url) {
  size_t scheme = url.find("://");
  size_t start = scheme == std::string_view::npos ? 0 : scheme + 3;
  size_t end = url.find_first_of("/?", start);
  if (end == std::string_view::npos) return std::string(url);
  return std::string(url.substr(0, end)) + "/…";
}

}  // namespace pyrometer::server::alert
