// The HTTP request/response values every server stage sees, and the handler
// signature. Deliberately free of Boost.Beast so stages compile fast.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pyrometer::server::http {

// One parsed HTTP/1.1 request. The body is already decoded: a gzip request
// body has been inflated (and checked against the body limit) before any
// handler sees it. Header names are lower-case.
struct Request {
  std::string method;  // upper-case, e.g. "POST"
  std::string target;  // as received: path plus optional "?query"
  std::string path;    // target up to '?'
  std::string query;   // after '?', still percent-encoded; empty if none
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Filled by the router for patterns like "/api/v1/traces/{id}": the
  // segment matched by the braces, percent-encoding untouched.
  std::string path_param;

  // Value of the first header called `name` (lower-case), or "" if absent.
  std::string_view header(std::string_view name) const;
  // The media type of Content-Type, lower-cased, parameters stripped
  // ("application/json; charset=utf-8" → "application/json").
  std::string media_type() const;
  // Value of query parameter `name`, percent-decoded; `found` (optional) tells
  // an absent parameter from an empty one.
  std::string query_param(std::string_view name, bool* found = nullptr) const;
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  // Extra headers (e.g. Retry-After, Allow). Content-Type and Content-Length
  // are set from the fields above.
  std::vector<std::pair<std::string, std::string>> headers;

  void set(int status_code, std::string type, std::string content) {
    status = status_code;
    content_type = std::move(type);
    body = std::move(content);
  }
};

// A handler fills `response`. It runs on a worker thread (it may block, e.g.
// on a WAL group commit) and may be called concurrently from several threads.
// Exceptions are caught by the server and turned into a counted 500, but
// handlers should return errors as responses instead.
using Handler = std::function<void(const Request& request, Response* response)>;

// Percent-decodes a URL component ('+' becomes a space, as in forms).
// Invalid escapes are kept verbatim.
std::string url_decode(std::string_view in);

}  // namespace pyrometer::server::http
