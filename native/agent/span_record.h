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

// A key the agent writes itself, from a string literal: checked at compile
// time (consteval), so it always views storage that outlives every record.
struct StaticKey {
  std::string_view text;
  consteval StaticKey(const char* literal) : text(literal) {}  // NOLINT: implicit by design
};

// An attribute's key: a StaticKey viewed in place, or an owned copy (keys
// from user code and configuration; a plain `const char*` is copied too,
// since only StaticKey's consteval constructor proves it is a literal). Why: a request span carries
// a dozen semantic-convention keys, four of them longer than std::string's 15-byte inline buffer;
// as std::string each cost an allocation on the application thread and a free on the exporter's
// (~2.5k instructions per request).
class AttrKey {
 public:
  AttrKey() = default;
  AttrKey(StaticKey key) : static_(key.text) {}  // NOLINT: implicit by design
  AttrKey(std::string key) : owned_(std::move(key)) {}
  AttrKey(std::string_view key) : owned_(key) {}
  AttrKey(const char* key) : owned_(key) {}  // copied: not known to be a literal

  std::string_view view() const { return static_.data() != nullptr ? static_ : owned_; }
  operator std::string_view() const { return view(); }  // NOLINT: a key reads as its text
  // NUL-terminated (literals are; owned keys are std::strings).
  const char* c_str() const { return static_.data() != nullptr ? static_.data() : owned_.c_str(); }
  size_t size() const { return view().size(); }
  bool empty() const { return view().empty(); }
  // Heap bytes owned beyond the object itself, for memory bounds.
  size_t heap_bytes() const { return static_.data() != nullptr ? 0 : owned_.capacity(); }

  friend bool operator==(const AttrKey& a, std::string_view b) { return a.view() == b; }
  friend bool operator<(const AttrKey& a, const AttrKey& b) { return a.view() < b.view(); }

 private:
  std::string_view static_;  // data() != nullptr: a StaticKey
  std::string owned_;
};

struct Attribute {
  AttrKey key;
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
