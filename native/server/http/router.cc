// Router: method + path dispatch with 404/405, bearer-token auth and the
// exception barrier that keeps a faulty handler from taking the server down.
#include "server/http/router.h"

#include <algorithm>
#include <cctype>
#include <exception>

namespace pyrometer::server::http {

std::string_view Request::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return {};
}

std::string Request::media_type() const {
  std::string_view type = header("content-type");
  size_t semi = type.find(';');
  if (semi != std::string_view::npos) type = type.substr(0, semi);
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  std::string out(type);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Request::query_param(std::string_view name, bool* found) const {
  if (found != nullptr) *found = false;
  std::string_view rest = query;
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    size_t eq = pair.find('=');
    std::string key = url_decode(pair.substr(0, eq));
    if (key != name) continue;
    if (found != nullptr) *found = true;
    return eq == std::string_view::npos ? std::string() : url_decode(pair.substr(eq + 1));
  }
  return {};
}

std::string url_decode(std::string_view in) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < in.size() && hex(in[i + 1]) >= 0 && hex(in[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(in[i + 1]) * 16 + hex(in[i + 2])));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  // Always walk the expected length so timing does not reveal a prefix match.
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < b.size(); ++i) {
    unsigned char ca = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    diff |= static_cast<unsigned char>(ca ^ static_cast<unsigned char>(b[i]));
  }
  return diff == 0;
}

Router::Router() {
  formatter_ = [](const Request&, int status, std::string_view message, Response* response) {
    response->set(status, "text/plain; charset=utf-8", std::string(message) + "\n");
  };
}

void Router::add(std::string method, std::string pattern, Handler handler) {
  Route route;
  route.method = std::move(method);
  size_t brace = pattern.find('{');
  if (brace != std::string::npos) {
    route.prefix = pattern.substr(0, brace);
    size_t close = pattern.find('}', brace);
    if (close != std::string::npos) route.suffix = pattern.substr(close + 1);
    route.parametric = true;
  } else {
    route.prefix = std::move(pattern);
  }
  route.handler = std::move(handler);
  routes_.push_back(std::move(route));
}

void Router::set_error_formatter(ErrorFormatter formatter) { formatter_ = std::move(formatter); }

void Router::set_bearer_token(std::string token, std::vector<std::string> exempt_paths) {
  token_ = std::move(token);
  exempt_paths_ = std::move(exempt_paths);
}

void Router::error(const Request& request, int status, std::string_view message,
                   Response* response) const {
  response->headers.clear();
  formatter_(request, status, message, response);
}

bool Router::authorized(const Request& request) const {
  if (token_.empty()) return true;
  if (std::find(exempt_paths_.begin(), exempt_paths_.end(), request.path) != exempt_paths_.end()) {
    return true;
  }
  constexpr std::string_view kScheme = "Bearer ";
  std::string_view auth = request.header("authorization");
  if (auth.size() < kScheme.size()) return false;
  // The scheme name is case-insensitive (RFC 7235).
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(auth[i])) !=
        std::tolower(static_cast<unsigned char>(kScheme[i]))) {
      return false;
    }
  }
  return constant_time_equal(auth.substr(kScheme.size()), token_);
}

void Router::dispatch(Request& request, Response* response) const {
  if (!authorized(request)) {
    error(request, 401, "missing or wrong bearer token (Authorization: Bearer <PYROMETER_TOKEN>)",
          response);
    response->headers.emplace_back("WWW-Authenticate", "Bearer");
    return;
  }
  const Route* match = nullptr;
  std::string allowed;
  // Two passes: exact routes first, then parametric ones.
  for (int pass = 0; pass < 2 && match == nullptr; ++pass) {
    for (const Route& route : routes_) {
      if (route.parametric != (pass == 1)) continue;
      bool path_ok;
      if (!route.parametric) {
        path_ok = request.path == route.prefix;
      } else {
        std::string_view path = request.path;
        path_ok = path.size() > route.prefix.size() + route.suffix.size() &&
                  path.starts_with(route.prefix) && path.ends_with(route.suffix);
        if (path_ok) {
          path.remove_suffix(route.suffix.size());
          path_ok = path.find('/', route.prefix.size()) == std::string_view::npos;
        }
      }
      if (!path_ok) continue;
      if (route.method != request.method) {
        if (allowed.find(route.method) == std::string::npos) {
          if (!allowed.empty()) allowed += ", ";
          allowed += route.method;
        }
        continue;
      }
      match = &route;
      if (route.parametric) {
        request.path_param = request.path.substr(
            route.prefix.size(), request.path.size() - route.prefix.size() - route.suffix.size());
      }
      break;
    }
    if (!allowed.empty()) break;  // the path exists: do not fall through to patterns
  }
  if (match == nullptr) {
    if (!allowed.empty()) {
      error(request, 405, "method " + request.method + " not allowed on " + request.path, response);
      response->headers.emplace_back("Allow", allowed);
    } else {
      error(request, 404, "no such endpoint: " + request.path, response);
    }
    return;
  }
  try {
    match->handler(request, response);
  } catch (const std::exception& e) {
    handler_exceptions_.fetch_add(1);
    error(request, 500, std::string("internal error: ") + e.what(), response);
  } catch (...) {
    handler_exceptions_.fetch_add(1);
    error(request, 500, "internal error", response);
  }
}

}  // namespace pyrometer::server::http
