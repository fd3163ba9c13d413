// TraceSpanCounts: spans seen per trace id, shared by successive heads so the
// per-trace span limit holds across head cuts. Bounded: two fixed tables.
#pragma once

#include <cstdint>
#include <mutex>
#include <string_view>
#include <vector>

namespace pyrometer::server::store {

// Remembers the span count of recently seen traces in two generations of
// open-addressing tables of fixed size. When the current generation is half
// full it becomes the previous one and a cleared table takes its place; a
// trace found only in the previous generation is copied forward. So the last
// `capacity() / 2` to `capacity()` distinct traces are always remembered, and
// memory is fixed at construction (bytes()), whatever the traffic. A trace not
// seen for that many newer traces starts counting again from zero: the limit
// exists to stop runaway traces, which keep arriving and so stay remembered.
//
// Not thread-safe: callers hold mu() (the head holds it across one request).
class TraceSpanCounts {
 public:
  // `max_spans_per_trace`: spans past this are refused. `max_bytes`: memory
  // budget for both generations (at least 64 slots each are kept).
  TraceSpanCounts(uint32_t max_spans_per_trace, size_t max_bytes);

  enum class Verdict : uint8_t {
    kAccept,         // counted; store the span
    kTruncateFirst,  // over the limit for the first time: store a marker, drop the span
    kDrop,           // over the limit, marker already stored: drop the span
  };
  // Counts one span of `trace_id` (16 bytes; shorter ids are zero-padded).
  Verdict add_span(std::string_view trace_id);

  std::mutex& mu() { return mu_; }
  uint32_t max_spans_per_trace() const { return max_spans_; }
  // Heap bytes held (constant after construction).
  size_t bytes() const { return (current_.size() + previous_.size()) * sizeof(Slot); }
  // Distinct traces one generation holds before it is retired.
  size_t generation_traces() const { return slots_ / 2; }

  // Budget share of --max-memory: the store gives the table 1/kMemoryDivisor,
  // at most kMaxBytes (over a million traces remembered).
  static constexpr size_t kMemoryDivisor = 32;
  static constexpr size_t kMaxBytes = size_t{64} << 20;

 private:
  struct Slot {
    uint64_t hi = 0, lo = 0;  // trace id words; an all-zero id is kept apart (zero_)
    uint32_t spans = 0;       // 0 = empty slot
    uint32_t truncated = 0;
  };
  struct Entry {
    uint32_t spans = 0;
    uint32_t truncated = 0;
  };
  Slot* find(std::vector<Slot>& table, uint64_t hi, uint64_t lo, bool* found);
  Verdict count(uint32_t* spans, uint32_t* truncated);

  const uint32_t max_spans_;
  size_t slots_;  // power of two, per generation
  std::mutex mu_;
  std::vector<Slot> current_, previous_;
  size_t current_used_ = 0;
  // The slot of the last span's trace: exporters send a trace's spans next to
  // each other, and the tables are too big for the cache, so this saves a
  // cache miss per span. Reset when the generations turn over.
  Slot* last_ = nullptr;
  Entry zero_;  // the all-zero trace id (invalid in OTLP, but must not break the table)
};

}  // namespace pyrometer::server::store
