// LocalTrace: the spans of one trace inside this process, buffered until the
// local root ends, then kept (submitted whole) or dropped: local tail keep.
#include "agent/local_trace.h"

#include <atomic>
#include <utility>

#include "agent/span.h"

namespace pyrometer::agent {

std::string_view keep_reason_name(KeepReason reason) {
  switch (reason) {
    case KeepReason::kSampled:
      return "sampled";
    case KeepReason::kError:
      return "error";
    case KeepReason::kInsight:
      return "insight";
    case KeepReason::kSlow:
      return "slow";
    case KeepReason::kNotKept:
      break;
  }
  return "";
}

LocalTraceCounters& local_trace_counters() {
  static LocalTraceCounters counters;
  return counters;
}

LocalTrace::LocalTrace(bool sampled, bool tail_keep, uint64_t fork_generation)
    : sampled_(sampled), tail_keep_(tail_keep), fork_generation_(fork_generation) {}

// Released traces kept for reuse, shared by all threads. Taken with a
// try-lock: a thread that finds it busy allocates (or deletes) instead, so
// nobody waits, and an uncontended take costs one atomic exchange (a
// thread_local cache cost as much as it saved: __tls_get_addr in a shared
// library). Fork: a cached trace's mutex is unlocked (nothing holds a trace
// nobody references), but a trace of the parent released in the child may
// have been locked at the fork by a thread the child lacks, so create() never
// reuses a trace of another fork generation; it deletes it. Had another
// thread held the cache's flag at the fork, the child finds it busy forever
// and simply allocates.
struct LocalTraceCache {
  static constexpr int kCapacity = 16;
  std::atomic_flag busy = ATOMIC_FLAG_INIT;
  int size = 0;                   // guarded by busy
  LocalTrace* traces[kCapacity];  // guarded by busy

  bool try_lock() { return !busy.test_and_set(std::memory_order_acquire); }
  void unlock() { busy.clear(std::memory_order_release); }
};

namespace {
LocalTraceCache g_cache;  // left to the OS at exit: traces are plain memory
}  // namespace

LocalTrace* LocalTrace::create(bool sampled, bool tail_keep, uint64_t fork_generation) {
  LocalTrace* t = nullptr;
  if (g_cache.try_lock()) {
    if (g_cache.size > 0) t = g_cache.traces[--g_cache.size];
    g_cache.unlock();
  }
  if (t != nullptr && t->fork_generation_ == fork_generation) {
    t->reset(sampled, tail_keep, fork_generation);
    return t;
  }
  delete t;
  return new LocalTrace(sampled, tail_keep, fork_generation);
}

void LocalTrace::release() {
  // What a root that never ended left buffered is freed now, not held in the
  // cache until the next reuse (up to kMaxSpans records per cached trace).
  if (spans_.capacity() != 0) std::vector<SpanRecord>().swap(spans_);
  root_attrs_.clear();
  if (g_cache.try_lock()) {
    const bool kept = g_cache.size < LocalTraceCache::kCapacity;
    if (kept) g_cache.traces[g_cache.size++] = this;
    g_cache.unlock();
    if (kept) return;
  }
  delete this;
}

void LocalTrace::reset(bool sampled, bool tail_keep, uint64_t fork_generation) {
  refs_.store(1, std::memory_order_relaxed);
  sampled_ = sampled;
  tail_keep_ = tail_keep;
  fork_generation_ = fork_generation;
  route_id_.store(0, std::memory_order_relaxed);
  trace_state_.clear();
  baggage_.clear();
  root_ended_ = false;
  kept_ = false;
  error_ = false;
  insight_ = false;
  // spans_ and root_attrs_ were emptied by release().
}

bool LocalTrace::add_root_attribute(std::string_view key, AttrValue&& value,
                                    uint64_t current_fork_generation) {
  if (current_fork_generation != fork_generation_) return false;
  std::lock_guard<std::mutex> lock(mu_);
  if (root_ended_) return false;
  return upsert_copied_attribute(root_attrs_, key, std::move(value));
}

void LocalTrace::end_span(SpanRecord&& span, Pipeline* out, uint64_t current_fork_generation) {
  LocalTraceCounters& counters = local_trace_counters();
  if (current_fork_generation != fork_generation_) {
    counters.spans_dropped_after_fork.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (defers_red(out)) {
    span.red_deferred = true;  // aggregated by the pipeline (or just below, if dropped here)
  } else if (out != nullptr) {
    out->on_span_end(span);
  }
  const bool error = span.status_code == common::otlp::StatusCode::kError;
  const bool insight = has_insight(span);
  std::unique_lock<std::mutex> lock(mu_);
  if (root_ended_) {
    // A late span (e.g. an asyncio task that outlived the request): its
    // trace was already decided, so it follows that decision alone.
    const bool kept = kept_;
    lock.unlock();
    if (!kept) {
      counters.late_spans_dropped.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    counters.late_spans_submitted.fetch_add(1, std::memory_order_relaxed);
    if (out != nullptr) {
      std::vector<SpanRecord> one;
      one.push_back(std::move(span));
      if (!out->submit_trace(std::move(one))) {
        counters.submit_refused.fetch_add(1, std::memory_order_relaxed);
      }
    }
    return;
  }
  error_ = error_ || error;
  insight_ = insight_ || insight;
  if (spans_.size() >= kMaxSpans) {
    counters.spans_over_trace_limit.fetch_add(1, std::memory_order_relaxed);
    lock.unlock();
    if (span.red_deferred) out->on_span_end(span);  // not exported, still counted
    return;
  }
  spans_.push_back(std::move(span));
}

KeepReason LocalTrace::end_root(SpanRecord&& root, Pipeline* out,
                                uint64_t current_fork_generation) {
  LocalTraceCounters& counters = local_trace_counters();
  if (current_fork_generation != fork_generation_) {
    counters.spans_dropped_after_fork.fetch_add(1, std::memory_order_relaxed);
    return KeepReason::kNotKept;
  }
  std::vector<SpanRecord> spans;
  KeepReason reason;
  {
    // Decided under the lock so that a span ending concurrently on another
    // thread sees either "root still open" (and is buffered) or the final
    // decision, never a half-made one. The pipeline calls made here never
    // call back into the tracer.
    std::lock_guard<std::mutex> lock(mu_);
    root_ended_ = true;
    spans.swap(spans_);
    for (Attribute& a : root_attrs_)
      upsert_copied_attribute(root.attributes, a.key, std::move(a.value));
    root_attrs_.clear();
    const bool error = error_ || root.status_code == common::otlp::StatusCode::kError;
    const bool insight = insight_ || has_insight(root);
    // RED sees the root with the user's attributes (e.g. enduser.id) but
    // without the keep reason, which depends on the p99 that RED maintains.
    if (defers_red(out)) {
      root.red_deferred = true;
    } else if (out != nullptr) {
      out->on_span_end(root);
    }
    reason = decide_keep(sampled_, tail_keep_, error, insight,
                         [&] { return out != nullptr && out->above_endpoint_p99(root); });
    kept_ = reason != KeepReason::kNotKept;
  }
  if (reason == KeepReason::kNotKept) {
    counters.traces_not_kept.fetch_add(1, std::memory_order_relaxed);
    return reason;
  }
  counters.traces_kept.fetch_add(1, std::memory_order_relaxed);
  if (out == nullptr) return reason;
  root.pending_keep_reason = keep_reason_name(reason);  // written by the pipeline
  if (!out->submit_local_trace(std::move(spans), std::move(root))) {
    counters.submit_refused.fetch_add(1, std::memory_order_relaxed);
  }
  return reason;
}

}  // namespace pyrometer::agent
