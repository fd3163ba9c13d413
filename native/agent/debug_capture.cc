// DebugCapture: a TEST-ONLY sink that keeps copies of kept traces in memory,
// so tests can see what would be exported without a network or a pipeline.
#include "agent/debug_capture.h"

#include <atomic>
#include <mutex>
#include <new>

namespace pyrometer::agent {
namespace {

std::atomic<bool> g_enabled{false};
// Heap-allocated and never destroyed: re-created in a forked child, and must
// not be destroyed at exit while an exporter thread may still call add().
std::mutex* g_mu = new std::mutex;
std::vector<SpanRecord>* g_spans = new std::vector<SpanRecord>;

}  // namespace

DebugCapture& DebugCapture::instance() {
  static DebugCapture capture;
  return capture;
}

void DebugCapture::enable(bool on) {
  g_enabled.store(on, std::memory_order_release);
  if (!on) drain();
}

bool DebugCapture::enabled() const { return g_enabled.load(std::memory_order_relaxed); }

void DebugCapture::add(const std::vector<SpanRecord>& spans) {
  if (!enabled()) return;
  std::lock_guard<std::mutex> lock(*g_mu);
  for (const SpanRecord& s : spans) {
    if (g_spans->size() >= kMaxSpans) return;
    g_spans->push_back(s);
  }
}

std::vector<SpanRecord> DebugCapture::drain() {
  std::vector<SpanRecord> out;
  std::lock_guard<std::mutex> lock(*g_mu);
  out.swap(*g_spans);
  return out;
}

void DebugCapture::after_fork_in_child() {
  // The old mutex may be locked by a thread that does not exist here: leak
  // it and the spans (they belong to the parent) rather than touch them.
  g_mu = new std::mutex;
  g_spans = new std::vector<SpanRecord>;
}

}  // namespace pyrometer::agent
