// Protobuf encoders and decoders for the OTLP export requests (traces, metrics,
// logs) on protozero: no generated code, zero-copy decoding.
//
// Decoders never throw and never read outside `data`: malformed input
// (truncated varint, length past the end, wrong wire type for a known field,
// nesting deeper than kMaxNesting, invalid UTF-8 is NOT checked) yields
// Status::invalid_argument with a message naming the message/field.
// Unknown fields are skipped, as protobuf requires.
//
// Lifetime: decoded string_views point into `data`; the caller keeps `data`
// alive while `out` is used. `out` must be empty (default-constructed).
// Thread-safety: all functions are reentrant.
#pragma once

#include <string>
#include <string_view>

#include "common/otlp_model.h"
#include "common/status.h"

namespace pyrometer::common::otlp {

// AnyValue arrays/kvlists and messages nest; deeper input is rejected so a
// hostile payload cannot exhaust the stack.
inline constexpr int kMaxNesting = 32;

Status decode_traces(std::string_view data, TracesRequest* out);
Status decode_metrics(std::string_view data, MetricsRequest* out);
Status decode_logs(std::string_view data, LogsRequest* out);

// Encoders append the serialized request to *out (they do not clear it), so a
// caller can reuse one buffer across batches.
void encode_traces(const TracesRequest& req, std::string* out);
void encode_metrics(const MetricsRequest& req, std::string* out);
void encode_logs(const LogsRequest& req, std::string* out);

// Export*ServiceResponse with an optional partial_success (field 1):
// rejected count is field 1, error_message field 2, for all three signals.
void encode_export_response(const PartialSuccess& partial, std::string* out);
Status decode_export_response(std::string_view data, PartialSuccess* out);

}  // namespace pyrometer::common::otlp
