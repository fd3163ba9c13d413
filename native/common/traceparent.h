// W3C `traceparent` parse/format (version-traceid-parentid-flags) and the
// combined extraction of traceparent + tracestate from incoming headers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/trace_id.h"
#include "common/tracestate.h"

namespace pyrometer::common {

// A parsed traceparent. Always valid when obtained from parse_traceparent():
// non-zero ids, version != 0xff.
struct TraceParent {
  static constexpr uint8_t kFlagSampled = 0x01;
  static constexpr uint8_t kFlagRandom = 0x02;  // W3C level 2: trace-id is random
  static constexpr size_t kHeaderSize = 55;     // "00-" 32 "-" 16 "-" 2

  uint8_t version = 0;
  TraceId trace_id;
  SpanId parent_id;
  uint8_t flags = 0;

  bool sampled() const { return (flags & kFlagSampled) != 0; }
  friend bool operator==(const TraceParent&, const TraceParent&) = default;
};

// Parses a traceparent header value. nullopt for every malformed input:
//  - leading/trailing OWS (space, tab) is trimmed first (HTTP field values);
//  - version: 2 lowercase hex digits, not "ff";
//  - trace-id: 32 lowercase hex, not all zero; parent-id: 16 lowercase hex,
//    not all zero; flags: 2 lowercase hex; separators exactly '-';
//  - version 00: exactly 55 characters, nothing after the flags;
//  - a higher (future) version: at least 55 characters, and if longer the
//    56th must be '-' (its extra fields are ignored, per the spec's rule to
//    parse what is known of a future version).
// Never throws, never allocates.
std::optional<TraceParent> parse_traceparent(std::string_view header);

// Formats as version 00 ("00-<trace>-<parent>-<flags>"), whatever version
// was parsed: we only speak 00. Writes exactly kHeaderSize characters to out.
void format_traceparent(const TraceParent& tp, char out[TraceParent::kHeaderSize]);
std::string format_traceparent(const TraceParent& tp);

// What an incoming request carries. tracestate is empty when the header was
// missing or invalid (W3C: drop the tracestate, keep the traceparent).
struct TraceContext {
  TraceParent parent;
  TraceState state;
  bool tracestate_dropped = false;  // a non-empty tracestate was invalid
};

// Extracts a context from the two header values (either may be empty = absent;
// multiple tracestate lines joined with ','). nullopt when traceparent is
// absent or invalid: then the tracestate is ignored too, and the caller starts
// a new trace.
std::optional<TraceContext> extract_trace_context(std::string_view traceparent,
                                                  std::string_view tracestate);

}  // namespace pyrometer::common
