// Security headers: no-sniff and no-referrer everywhere, CSP and frame denial
// on HTML, so the UI cannot be framed or made to run injected inline script.
#include "server/http/security_headers.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace pyrometer::server::http {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

void add_unless_set(Response* res, std::string_view name, std::string_view value) {
  for (const auto& [n, v] : res->headers) {
    if (iequals(n, name)) return;
  }
  res->headers.emplace_back(std::string(name), std::string(value));
}

}  // namespace

bool is_html_response(std::string_view path, std::string_view content_type) {
  if (path == "/") return true;
  std::string_view media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  return iequals(media, "text/html");
}

void add_security_headers(std::string_view path, Response* response) {
  add_unless_set(response, "X-Content-Type-Options", "nosniff");
  add_unless_set(response, "Referrer-Policy", "no-referrer");
  if (is_html_response(path, response->content_type)) {
    add_unless_set(response, "Content-Security-Policy", kContentSecurityPolicy);
    add_unless_set(response, "X-Frame-Options", "DENY");
  }
}

}  // namespace pyrometer::server::http
