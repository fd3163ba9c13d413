// Request-body content decoding (Content-Encoding: gzip or identity, as OTLP/HTTP
// allows) with an output cap, so a small compressed "bomb" cannot exhaust memory.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace pyrometer::server::http {

// Decodes `body` sent with Content-Encoding `encoding` (case-insensitive;
// "" or "identity" pass through) into *out, producing at most `max_out`
// bytes. Returns too_large past the cap and invalid_argument for corrupt
// data; an unknown encoding gives invalid_argument with
// *unsupported_encoding = true (the caller answers 415). Reentrant.
common::Status decode_content(std::string_view encoding, std::string&& body, size_t max_out,
                              std::string* out, bool* unsupported_encoding);

}  // namespace pyrometer::server::http
