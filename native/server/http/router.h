// Router: maps (method, path) to a handler, answers 404/405 itself, checks the
// bearer token when one is configured, and turns handler exceptions into 500.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "server/http/handler.h"

namespace pyrometer::server::http {

class Router {
 public:
  // Formats an error the server produces itself (404, 405, 401, 413, bad
  // gzip, 500), so that e.g. OTLP paths answer with a google.rpc.Status.
  using ErrorFormatter = std::function<void(const Request& request, int status,
                                            std::string_view message, Response* response)>;

  Router();

  // Registers `handler` for `method` on `pattern`: either an exact path
  // ("/v1/traces") or a prefix ending in one "{name}" segment
  // ("/api/v1/traces/{id}"), which matches exactly one non-empty segment and
  // stores it in Request::path_param; a literal suffix may follow the braces
  // ("/api/v1/services/{service}/endpoints"). Exact patterns win over
  // parametric ones.
  // Setup only: not thread-safe with dispatch().
  void add(std::string method, std::string pattern, Handler handler);

  // Replaces the default (text/plain) error formatter. Setup only.
  void set_error_formatter(ErrorFormatter formatter);

  // With a non-empty token every request must carry
  // "Authorization: Bearer <token>" (compared in constant time) except for
  // paths in `exempt_paths`; otherwise 401. Setup only.
  void set_bearer_token(std::string token, std::vector<std::string> exempt_paths);

  // Routes `request` and fills `response`; never throws. Thread-safe after
  // setup. `request.path_param` is set for parametric routes.
  void dispatch(Request& request, Response* response) const;

  // Fills `response` with an error through the configured formatter.
  void error(const Request& request, int status, std::string_view message,
             Response* response) const;

  // Handlers that threw (answered 500), for self-metrics.
  uint64_t handler_exceptions() const { return handler_exceptions_.load(); }

 private:
  struct Route {
    std::string method;
    std::string prefix;  // whole path for exact routes
    std::string suffix;  // after the "{name}" segment of parametric routes
    bool parametric = false;
    Handler handler;
  };
  bool authorized(const Request& request) const;

  std::vector<Route> routes_;
  ErrorFormatter formatter_;
  std::string token_;
  std::vector<std::string> exempt_paths_;
  mutable std::atomic<uint64_t> handler_exceptions_{0};
};

// Compares two strings in time that depends only on their lengths, so a
// token cannot be guessed byte by byte from response times.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace pyrometer::server::http
