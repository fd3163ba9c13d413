// google.rpc.Status bodies (field 1 code, field 2 message) in protobuf and in
// the proto3 JSON mapping, chosen by the request's content type.
#include "server/ingest/rpc_status.h"

#include <protozero/pbf_writer.hpp>

namespace pyrometer::server::ingest {

Encoding encoding_of(const http::Request& request) {
  std::string type = request.media_type();
  if (type == "application/x-protobuf" || type == "application/protobuf") {
    return Encoding::kProtobuf;
  }
  if (type == "application/json") return Encoding::kJson;
  return Encoding::kUnsupported;
}

int grpc_code_for_http(int http_status) {
  switch (http_status) {
    case 400:
    case 415:
      return 3;  // INVALID_ARGUMENT
    case 401:
      return 16;  // UNAUTHENTICATED
    case 404:
      return 5;  // NOT_FOUND
    case 405:
      return 12;  // UNIMPLEMENTED
    case 413:
    case 431:
      return 8;  // RESOURCE_EXHAUSTED
    case 429:
    case 503:
      return 14;  // UNAVAILABLE
    default:
      return http_status >= 500 ? 13 : 2;  // INTERNAL : UNKNOWN
  }
}

void append_json_string(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20) {
          out->append("\\u00");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 15]);
        } else {
          out->push_back(ch);
        }
    }
  }
  out->push_back('"');
}

void set_rpc_error(Encoding encoding, int http_status, std::string_view message,
                   http::Response* response) {
  int code = grpc_code_for_http(http_status);
  std::string body;
  if (encoding == Encoding::kProtobuf) {
    protozero::pbf_writer w(body);
    w.add_int32(1, code);
    w.add_string(2, message.data(), message.size());
    response->set(http_status, "application/x-protobuf", std::move(body));
  } else {
    body = "{\"code\":" + std::to_string(code) + ",\"message\":";
    append_json_string(message, &body);
    body += "}";
    response->set(http_status, "application/json", std::move(body));
  }
  if (http_status == 429 || http_status == 503) response->headers.emplace_back("Retry-After", "1");
}

http::Router::ErrorFormatter otlp_error_formatter() {
  return [](const http::Request& request, int status, std::string_view message,
            http::Response* response) {
    if (request.path.starts_with("/v1/")) {
      Encoding enc = encoding_of(request);
      set_rpc_error(enc == Encoding::kProtobuf ? enc : Encoding::kJson, status, message, response);
      return;
    }
    std::string body = "{\"error\":";
    append_json_string(message, &body);
    body += "}";
    response->set(status, "application/json", std::move(body));
  };
}

}  // namespace pyrometer::server::ingest
