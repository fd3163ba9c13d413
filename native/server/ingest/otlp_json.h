// OTLP JSON (the OTLP/HTTP JSON encoding) → the shared OTLP model, so JSON
// requests take the same path as protobuf ones (re-encoded for the WAL).
//
// Mapping (OTLP spec, "JSON Protobuf Encoding"): lowerCamelCase field names
// (the original snake_case names are accepted too); trace/span ids as hex
// (base64 of the right length is tolerated); enums as integers or their names;
// 64-bit integers as numbers or strings; doubles may be "NaN"/"Infinity";
// bytes values as base64; unknown fields and nulls are ignored.
//
// Errors: malformed JSON, a wrong type for a known field, a bad id or
// nesting deeper than kMaxJsonDepth → Status::invalid_argument whose message
// names the offending field path (e.g. "resourceSpans[0].scopeSpans[0]
// .spans[3].traceId: ..."). Never throws, never crashes on hostile input.
//
// Lifetime: the decoder takes ownership of `json` and keeps it (and every
// unescaped string or decoded id) in out->arena; the model's string_views
// stay valid as long as *out lives. `out` must be default-constructed.
// Thread-safety: reentrant.
#pragma once

#include <string>

#include "common/otlp_model.h"
#include "common/status.h"

namespace pyrometer::server::ingest {

// Objects and arrays nested deeper than this are rejected before parsing,
// so neither the parser nor the model builder can exhaust the stack.
inline constexpr int kMaxJsonDepth = 64;

common::Status decode_traces_json(std::string json, common::otlp::TracesRequest* out);
common::Status decode_metrics_json(std::string json, common::otlp::MetricsRequest* out);
common::Status decode_logs_json(std::string json, common::otlp::LogsRequest* out);

}  // namespace pyrometer::server::ingest
