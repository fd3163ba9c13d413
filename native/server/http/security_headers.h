// Security headers every HTTP response of pyrometer-server carries, decided
// in one place so no handler (API, ingest, UI, error pages) can forget them.
#pragma once

#include <string_view>

#include "server/http/handler.h"

namespace pyrometer::server::http {

// The policy, for tests and docs.
inline constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; frame-ancestors 'none'";

// True for responses a browser may render as a page: the UI root "/" and any
// text/html body. Those also get CSP and X-Frame-Options (clickjacking,
// injected script); other responses are data and only need the first two.
bool is_html_response(std::string_view path, std::string_view content_type);

// Adds X-Content-Type-Options: nosniff and Referrer-Policy: no-referrer to
// every response, plus Content-Security-Policy and X-Frame-Options: DENY to
// HTML ones. A header the handler already set (same name, any case) is left
// as the handler chose it. Pure function of its arguments; thread-safe.
void add_security_headers(std::string_view path, Response* response);

}  // namespace pyrometer::server::http
