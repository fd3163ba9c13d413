// GilWaitTracker: turns periodic "is thread T blocked on the GIL?" observations
// into per-thread wait ratios and a histogram of wait durations (episodes).
#pragma once

#include <cstdint>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/exp_histogram.h"

namespace pyrometer::agent {

struct GilWaitObservation {
  uint64_t tid = 0;      // native thread id
  bool waiting = false;  // blocked on the GIL at this tick
};

// Cumulative wait counters (since start or fork); deltas give an interval.
struct GilWaitTotals {
  uint64_t ticks = 0;            // wait-sampling ticks
  uint64_t waiting_samples = 0;  // Σ over ticks of threads seen waiting
  uint64_t episodes = 0;         // finished wait episodes recorded
  double episode_seconds = 0;    // their total estimated duration
  // Per native thread id: {ticks observed, ticks waiting}.
  std::vector<std::pair<uint64_t, std::pair<uint64_t, uint64_t>>> by_thread;
};

// An episode is a run of consecutive ticks in which a thread was waiting. Its
// edges are unknown between ticks, so each is put half way between the last
// tick on one side and the first on the other: the estimate is unbiased for
// waits longer than a tick and off by at most one tick period either way.
// A wait shorter than the period is seen with probability length/period and
// then recorded as about one period. Episodes cut by the start or end of a
// sampling window (or by the thread leaving the observed set) have an unknown
// length and are not recorded (censored).
//
// Not thread-safe: the caller serialises (GilSampler holds its mutex).
class GilWaitTracker {
 public:
  // One tick at monotonic time `now_ns`. Threads absent from `obs` are no
  // longer observed: their open episode is censored.
  void tick(int64_t now_ns, const std::vector<GilWaitObservation>& obs);
  // The sampler stops looking until the next tick (duty-cycle gap).
  void end_window();

  GilWaitTotals totals() const;
  // The episode durations (seconds) finished since the previous call.
  common::ExpHistogram take_episodes();
  void reset();

  // Per-thread state is dropped past this many threads (oldest information first).
  static constexpr size_t kMaxThreads = 4096;

 private:
  struct Thread {
    uint64_t observed = 0, waiting = 0;  // cumulative ticks
    bool was_waiting = false;            // at its last observation
    bool censored = false;               // the open episode began before we looked
    int64_t start_ns = 0;                // estimated start of the open episode
    uint64_t last_tick = 0;              // tick number of the last observation
  };
  uint64_t ticks_ = 0;
  uint64_t waiting_samples_ = 0;
  uint64_t episodes_ = 0;
  double episode_seconds_ = 0;
  int64_t last_tick_ns_ = -1;  // previous tick in this window, -1 at a window start
  std::unordered_map<uint64_t, Thread> threads_;
  common::ExpHistogram pending_;
};

}  // namespace pyrometer::agent
