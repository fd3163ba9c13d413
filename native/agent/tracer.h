// Tracer: the process-wide tracing state that is not per span — the head
// sampler, the enabled switch, fork generations, counters, and the output.
#pragma once

#include <atomic>
#include <cstdint>

#include "agent/pipeline.h"
#include "agent/sampler.h"

namespace pyrometer::agent {

// Counters of the span lifecycle (LocalTrace keeps its own, see local_trace.h).
struct TracerCounters {
  std::atomic<uint64_t> spans_started{0};
  std::atomic<uint64_t> spans_ended{0};
  std::atomic<uint64_t> attributes_dropped{0};  // over the per-span limit or bad values
  std::atomic<uint64_t> events_dropped{0};
  // ContextVar.reset() refused the token (it was created in another Context,
  // e.g. a span entered in one task and exited in another): we fell back to
  // set(previous value) silently. Counted instead of logged on purpose.
  std::atomic<uint64_t> context_reset_fallbacks{0};
  std::atomic<uint64_t> end_twice{0};  // end() on an ended span (ignored)
  // Started spans garbage-collected without end(): lost (as in OTel), counted
  // so that a missing end() in an integration shows up in diagnostics.
  std::atomic<uint64_t> spans_abandoned{0};
  std::atomic<uint64_t> internal_errors{0};  // a Python error inside our hooks
};
TracerCounters& tracer_counters();
// One more internal_errors: a failure inside our hooks, absorbed (never
// raised into the app) and counted here instead.
inline void count_internal_error() {
  tracer_counters().internal_errors.fetch_add(1, std::memory_order_relaxed);
}

// The head-sampling policy and tail-keep switch, read on every new local root.
// Thread-safe; configure() is rare (start-up), reads are lock-free.
struct TracerConfig {
  Sampler sampler;
  bool tail_keep = true;
};
void configure_tracer(const TracerConfig& config);
TracerConfig tracer_config();

// The fork generation: 0 in the original process, incremented in every
// forked child (pthread_atfork, installed by install_fork_handler()). Spans
// remember it so nothing that started before a fork is exported by the child.
uint64_t fork_generation();
// Idempotent; also makes the child re-seed ids and reset thread_roots and the
// debug capture. Safe to call before any thread exists.
void install_fork_handler();

// Wall-clock time (Unix ns) for a monotonic reading, from an offset
// re-measured at most once per kCalibrationNanos: a span start then costs one
// clock read instead of two. A step of the system clock shows up within one
// calibration period; slewing (NTP) is far below span-timing resolution.
// Thread-safe, lock-free.
inline constexpr uint64_t kCalibrationNanos = 1'000'000'000;
uint64_t wall_from_monotonic(uint64_t mono_nanos);

// Where finished spans go: pipeline() of the agent runtime when it runs (via
// the provider set by the binding), plus the debug capture when enabled.
// Never null. Thread-safe.
Pipeline* tracer_output();
// tracer_output(), or nullptr when nothing would receive spans (no pipeline,
// capture off): callers then skip building what nobody reads.
Pipeline* active_tracer_output();
// Sets how to find the running pipeline (the binding passes `&pipeline`).
// Until it is set, spans go only to the debug capture.
void set_pipeline_provider(Pipeline* (*provider)());

}  // namespace pyrometer::agent
