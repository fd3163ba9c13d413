// HttpServer: the HTTP/1.1 front of pyrometer-server (Boost.Beast inside the
// .cc only). Keep-alive sessions on N io threads; handlers on a worker pool.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "server/http/handler.h"
#include "server/http/router.h"

namespace pyrometer::server::http {

struct HttpOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8321;  // 0 picks a free port (see HttpServer::port())
  int io_threads = 0;    // 0: one per core
  // Handlers may block (a WAL group commit waits for fsync), so they run on
  // their own pool, sized so concurrent requests share one fsync: the pool
  // caps ingest at pool size x request size per fdatasync latency (8 workers
  // and an 8 ms fdatasync held bench/ingest.py's 16 clients to ~180k spans/s
  // while the server used a fifth of its core). Waiting workers cost no CPU;
  // memory stays bounded by the store's --max-memory admission. 0: 8 per
  // core, at least 32.
  int worker_threads = 0;
  // Applied to the body as received (→ 413 while reading) and again to the
  // decompressed body of a gzip request (→ 413).
  size_t max_body_bytes = size_t{64} << 20;
  std::chrono::milliseconds read_timeout{30000};  // header-to-end-of-body
  std::chrono::milliseconds idle_timeout{60000};  // keep-alive wait for the next request
  // Called once per response (worker or io thread, concurrently): the
  // request (body may already be moved out), the response, seconds from
  // first header byte to response ready, and body bytes as received.
  std::function<void(const Request&, const Response&, double seconds, size_t bytes_in)> on_response;
};

class HttpServer {
 public:
  // Binds and listens on options.host:port, then serves on background
  // threads. `router` must outlive the server. Fails fast with a message
  // naming the address (e.g. port in use) and starts nothing then.
  static common::Status start(const HttpOptions& options, const Router* router,
                              std::unique_ptr<HttpServer>* out);

  // Calls shutdown() with a default grace period.
  ~HttpServer();

  // The bound port (useful with port 0).
  uint16_t port() const;

  // Graceful stop: closes the listener, closes idle keep-alive connections,
  // lets in-flight requests finish and answer (with Connection: close), then
  // stops the threads. Connections still busy after `grace` are cut.
  // Idempotent; thread-safe; must not be called from a handler.
  void shutdown(std::chrono::milliseconds grace = std::chrono::seconds(10));

  // Requests the server refused before routing (malformed HTTP, timeouts),
  // for self-metrics.
  uint64_t protocol_errors() const;

  class Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pyrometer::server::http
