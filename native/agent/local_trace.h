// LocalTrace: the spans of one trace inside this process, buffered until the
// local root ends, then kept (submitted whole) or dropped: local tail keep.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/pipeline.h"
#include "agent/span_record.h"

namespace pyrometer::agent {

// Why a local trace was kept; recorded as `pyrometer.keep_reason` on the root.
enum class KeepReason : uint8_t { kNotKept, kSampled, kError, kInsight, kSlow };
std::string_view keep_reason_name(KeepReason reason);

// The keep rule, in priority order: head-sampled, any span with status ERROR,
// any span with an insight, the root slower than its endpoint's running p99.
// `slow` is only consulted (and so only computed by the caller) when needed.
template <typename SlowFn>
KeepReason decide_keep(bool sampled, bool tail_keep, bool error, bool insight, SlowFn&& slow) {
  if (sampled) return KeepReason::kSampled;
  if (!tail_keep) return KeepReason::kNotKept;
  if (error) return KeepReason::kError;
  if (insight) return KeepReason::kInsight;
  if (slow()) return KeepReason::kSlow;
  return KeepReason::kNotKept;
}

// Counters of what LocalTrace did, read by the tracer's stats.
struct LocalTraceCounters {
  std::atomic<uint64_t> traces_kept{0};
  std::atomic<uint64_t> traces_not_kept{0};
  std::atomic<uint64_t> spans_over_trace_limit{0};  // dropped: buffer full
  std::atomic<uint64_t> late_spans_submitted{0};    // ended after a kept root
  std::atomic<uint64_t> late_spans_dropped{0};      // ended after a dropped root
  std::atomic<uint64_t> submit_refused{0};          // pipeline queue full
  std::atomic<uint64_t> spans_dropped_after_fork{0};
};
LocalTraceCounters& local_trace_counters();

// Ownership: intrusively reference-counted; every live span of the trace
// holds one reference (ref()/unref(), the last unref deletes). Thread-safety:
// all methods may be called from any thread concurrently (spans of one trace
// may end on different threads under free-threading or executors).
//
// Fork: a trace remembers the fork generation it was created in; spans that
// end in a forked child are dropped (counted), so nothing the parent started
// is exported twice, and the (possibly held-at-fork) mutex is never touched.
class LocalTrace {
 public:
  static constexpr size_t kMaxSpans = 1000;

  // A new trace holding one reference. `sampled`: the head decision.
  // `tail_keep`: whether error/insight/slow may keep an unsampled trace.
  // `fork_generation`: see fork_generation(). Reuses a released trace from
  // this thread's cache when it can: every local root makes a trace, and the
  // allocation was a tenth of an empty span's own cost.
  static LocalTrace* create(bool sampled, bool tail_keep, uint64_t fork_generation);
  LocalTrace(const LocalTrace&) = delete;
  LocalTrace& operator=(const LocalTrace&) = delete;

  void ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) release();
  }

  bool sampled() const { return sampled_; }

  // The remote parent's `tracestate` and `baggage` headers (validated),
  // stamped on every span of this trace and propagated by inject(). Set once,
  // right after construction and before the trace is shared; read-only
  // afterwards, so any thread may read them without the lock.
  void set_remote_headers(std::string trace_state, std::string baggage) {
    trace_state_ = std::move(trace_state);
    baggage_ = std::move(baggage);
  }
  // The interned endpoint (route_table.h) of the local root, 0 = unknown;
  // published with the thread's root for samplers. Any thread, lock-free.
  void set_route_id(uint32_t id) { route_id_.store(id, std::memory_order_relaxed); }
  uint32_t route_id() const { return route_id_.load(std::memory_order_relaxed); }
  const std::string& trace_state() const { return trace_state_; }
  const std::string& baggage() const { return baggage_; }

  // Adds an attribute for the local root (set_user / set_tag from any span of
  // the trace); applied when the root ends, overriding the root's own value.
  // Ignored once the root has ended, and in a forked child for a trace of the
  // parent (its lock may have been held at fork time). False when ignored.
  bool add_root_attribute(std::string_view key, AttrValue&& value,
                          uint64_t current_fork_generation);

  // A span that is not the local root ended. `out` may be null (pipeline not
  // started: the span is still buffered, then simply not exported).
  // Sends it to out->on_span_end (or marks it red_deferred, see
  // Pipeline::aggregates_on_export), then buffers it; after the root ended,
  // it is submitted alone if the trace was kept, else dropped.
  void end_span(SpanRecord&& span, Pipeline* out, uint64_t current_fork_generation);

  // The local root ended: decides keep, stamps the keep reason on the root,
  // and submits the whole buffer (root last) to out->submit_trace.
  // Returns the decision. Must be called at most once.
  KeepReason end_root(SpanRecord&& root, Pipeline* out, uint64_t current_fork_generation);

 private:
  friend struct LocalTraceCache;
  friend struct LocalTraceTestPeer;  // local_trace_test.cc: the lock, to simulate a fork
  LocalTrace(bool sampled, bool tail_keep, uint64_t fork_generation);
  ~LocalTrace() = default;
  // No reference left: buffered spans freed, then into the shared cache of
  // released traces, or deleted when the cache is full or busy.
  void release();
  // What the constructor sets, on a released trace.
  void reset(bool sampled, bool tail_keep, uint64_t fork_generation);

  // A head-sampled trace is kept whatever happens (decide_keep), so its
  // spans may skip on_span_end when the pipeline aggregates on export.
  bool defers_red(const Pipeline* out) const {
    return sampled_ && out != nullptr && out->aggregates_on_export();
  }

  std::atomic<uint32_t> refs_{1};
  bool sampled_;              // fixed while referenced
  bool tail_keep_;            // fixed while referenced
  uint64_t fork_generation_;  // fixed while referenced
  std::atomic<uint32_t> route_id_{0};
  std::string trace_state_;
  std::string baggage_;

  std::mutex mu_;
  bool root_ended_ = false;            // guarded by mu_
  bool kept_ = false;                  // guarded by mu_; meaningful once root_ended_
  bool error_ = false;                 // guarded by mu_
  bool insight_ = false;               // guarded by mu_
  std::vector<SpanRecord> spans_;      // guarded by mu_
  std::vector<Attribute> root_attrs_;  // guarded by mu_
};

}  // namespace pyrometer::agent
