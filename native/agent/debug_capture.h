// DebugCapture: a TEST-ONLY sink that keeps copies of kept traces in memory,
// so tests can see what would be exported without a network or a pipeline.
#pragma once

#include <vector>

#include "agent/span_record.h"

namespace pyrometer::agent {

// Off by default; while off, add() costs one relaxed atomic load.
// Bounded: at most kMaxSpans are held, extra spans are dropped (tests drain
// long before that). Thread-safe.
class DebugCapture {
 public:
  static constexpr size_t kMaxSpans = 100000;
  static DebugCapture& instance();

  void enable(bool on);
  bool enabled() const;
  void add(const std::vector<SpanRecord>& spans);
  // Returns and forgets everything captured so far.
  std::vector<SpanRecord> drain();
  // In a forked child: forget the parent's spans and re-create the lock
  // (another thread may have held it at fork time).
  void after_fork_in_child();

 private:
  DebugCapture() = default;
};

}  // namespace pyrometer::agent
