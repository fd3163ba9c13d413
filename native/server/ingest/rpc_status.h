// google.rpc.Status error bodies for OTLP/HTTP (protobuf or JSON, matching the
// request), and the router error formatter that uses them on /v1/* paths.
#pragma once

#include <string>
#include <string_view>

#include "server/http/handler.h"
#include "server/http/router.h"

namespace pyrometer::server::ingest {

// Which OTLP encoding a request uses, from its Content-Type.
enum class Encoding { kProtobuf, kJson, kUnsupported };
Encoding encoding_of(const http::Request& request);

// The gRPC status code matching an HTTP status (OTLP/HTTP spec table).
int grpc_code_for_http(int http_status);

// Fills `response` with `http_status` and a google.rpc.Status body
// {code, message} in `encoding` (kUnsupported answers in JSON, since the
// client's format is unknown). Adds Retry-After for 429/503.
void set_rpc_error(Encoding encoding, int http_status, std::string_view message,
                   http::Response* response);

// Router error formatter: google.rpc.Status on /v1/* paths, a JSON
// {"error": message} body elsewhere.
http::Router::ErrorFormatter otlp_error_formatter();

// Appends `s` to *out as a JSON string literal (quotes included).
void append_json_string(std::string_view s, std::string* out);

}  // namespace pyrometer::server::ingest
