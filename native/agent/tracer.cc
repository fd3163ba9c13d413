// Tracer: the process-wide tracing state that is not per span — the head
// sampler, the enabled switch, fork generations, counters, and the output.
#include "agent/tracer.h"

#include <pthread.h>

#include <mutex>
#include <utility>

#include "agent/debug_capture.h"
#include "agent/thread_roots.h"
#include "common/clock.h"
#include "common/random.h"

namespace pyrometer::agent {
namespace {

// Configs are immutable once published; the old ones are leaked on purpose
// (configure is called a handful of times per process) so that a reader
// never sees a freed config and never takes a lock.
std::atomic<const TracerConfig*> g_config{nullptr};
std::atomic<uint64_t> g_fork_generation{0};
std::atomic<Pipeline* (*)()> g_provider{nullptr};
std::atomic<int64_t> g_wall_offset{0};
std::atomic<uint64_t> g_calibrated_at{0};  // monotonic ns; 0 = never

void on_fork_child() {
  g_fork_generation.fetch_add(1, std::memory_order_relaxed);
  common::reseed_after_fork();
  thread_roots_after_fork_in_child();
  DebugCapture::instance().after_fork_in_child();
}

// Fans out to the running pipeline (if any) and the test-only capture.
class Output final : public Pipeline {
 public:
  void on_span_end(const SpanRecord& span) override {
    if (Pipeline* p = current()) p->on_span_end(span);
  }
  bool aggregates_on_export() const override {
    Pipeline* p = current();
    return p != nullptr && p->aggregates_on_export();
  }
  bool above_endpoint_p99(const SpanRecord& root) const override {
    Pipeline* p = current();
    return p != nullptr && p->above_endpoint_p99(root);
  }
  bool submit_trace(std::vector<SpanRecord>&& spans) override {
    DebugCapture::instance().add(spans);
    Pipeline* p = current();
    return p == nullptr || p->submit_trace(std::move(spans));
  }
  bool submit_local_trace(std::vector<SpanRecord>&& spans, SpanRecord&& root) override {
    if (DebugCapture::instance().enabled())
      return Pipeline::submit_local_trace(std::move(spans), std::move(root));
    Pipeline* p = current();
    return p == nullptr || p->submit_local_trace(std::move(spans), std::move(root));
  }
  bool flush(std::chrono::milliseconds timeout) override {
    Pipeline* p = current();
    return p == nullptr || p->flush(timeout);
  }

 private:
  static Pipeline* current() {
    Pipeline* (*provider)() = g_provider.load(std::memory_order_acquire);
    return provider != nullptr ? provider() : nullptr;
  }
};

}  // namespace

TracerCounters& tracer_counters() {
  static TracerCounters counters;
  return counters;
}

void configure_tracer(const TracerConfig& config) {
  g_config.store(new TracerConfig(config), std::memory_order_release);
}

TracerConfig tracer_config() {
  const TracerConfig* c = g_config.load(std::memory_order_acquire);
  return c != nullptr ? *c : TracerConfig{};
}

uint64_t fork_generation() { return g_fork_generation.load(std::memory_order_relaxed); }

void install_fork_handler() {
  static std::once_flag once;
  std::call_once(once, [] { pthread_atfork(nullptr, nullptr, &on_fork_child); });
}

uint64_t wall_from_monotonic(uint64_t mono) {
  const uint64_t at = g_calibrated_at.load(std::memory_order_acquire);
  if (at == 0 || mono - at > kCalibrationNanos) {
    const int64_t offset = static_cast<int64_t>(common::wall_unix_nano()) -
                           static_cast<int64_t>(common::monotonic_nano());
    g_wall_offset.store(offset, std::memory_order_relaxed);
    g_calibrated_at.store(mono == 0 ? 1 : mono, std::memory_order_release);
    return static_cast<uint64_t>(static_cast<int64_t>(mono) + offset);
  }
  return static_cast<uint64_t>(static_cast<int64_t>(mono) +
                               g_wall_offset.load(std::memory_order_relaxed));
}

Pipeline* active_tracer_output() {
  Pipeline* (*provider)() = g_provider.load(std::memory_order_acquire);
  if ((provider != nullptr && provider() != nullptr) || DebugCapture::instance().enabled()) {
    return tracer_output();
  }
  return nullptr;
}

Pipeline* tracer_output() {
  static Output* output = new Output;  // never destroyed: used until the process ends
  return output;
}

void set_pipeline_provider(Pipeline* (*provider)()) {
  g_provider.store(provider, std::memory_order_release);
}

}  // namespace pyrometer::agent
