// SpanRecord: a finished span as the agent keeps it between the tracer (which
// fills it) and the pipeline (RED aggregation, tail keep, OTLP export).
// Owns all its strings, so it outlives the Python objects it came from.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/otlp_model.h"

namespace pyrometer::agent {

// An attribute value: str, int, float, bool, or a homogeneous sequence of those.
using AttrScalar = std::variant<std::string, int64_t, double, bool>;
using AttrValue = std::variant<std::string, int64_t, double, bool, std::vector<AttrScalar>>;

struct Attribute {
  std::string key;
  AttrValue value;
};

// One frame of a recorded exception's stack, outermost first — the shape the
// server groups errors on (type + in-app frames' file:function).
struct StackFrame {
  std::string file;
  int32_t line = 0;
  std::string function;
  bool in_app = false;
};

struct EventRecord {
  uint64_t time_unix_nano = 0;
  std::string name;
  std::vector<Attribute> attributes;
};

struct SpanRecord {
  uint8_t trace_id[16] = {};
  uint8_t span_id[8] = {};
  uint8_t parent_span_id[8] = {};  // all zero for a root
  bool has_parent = false;
  bool parent_is_remote = false;  // parent came from an incoming traceparent
  uint8_t trace_flags = 0;        // W3C flags of the trace (bit 0: sampled)
  // RED aggregation has not seen this span yet: the pipeline that queued it
  // aggregates it when it leaves the queue, or when it is dropped
  // (Pipeline::aggregates_on_export).
  bool red_deferred = false;
  std::string trace_state;
  std::string name;
  common::otlp::SpanKind kind = common::otlp::SpanKind::kInternal;
  uint64_t start_unix_nano = 0;
  uint64_t end_unix_nano = 0;
  std::vector<Attribute> attributes;
  std::vector<EventRecord> events;  // "exception" events carry exception.* attributes
  common::otlp::StatusCode status_code = common::otlp::StatusCode::kUnset;
  std::string status_message;
  std::vector<StackFrame> exception_stack;  // of the last recorded exception, if any
  // A kept local root's keep reason (a static string: "sampled", "error", ...)
  // not yet written as the pyrometer.keep_reason attribute: the pipeline does
  // that off the application's thread (span.h: apply_pending_keep_reason; the
  // exporter writes it straight into the encoded span, otlp_batch.cc).
  std::string_view pending_keep_reason;
};

}  // namespace pyrometer::agent
