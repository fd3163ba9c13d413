// GilSampler: a native thread that reads the interpreter's GIL state every few
// hundred microseconds WITHOUT taking the GIL (held/switch counts), and every few
// milliseconds which Python threads are blocked waiting for it (/proc syscall).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "agent/gil_sampler_syscall.h"
#include "agent/gil_sampler_wait.h"
#include "common/exp_histogram.h"

namespace pyrometer::agent {

// One reading of the GIL (see cpython/gil_state.h for where it comes from).
struct GilSnapshot {
  bool locked = false;
  uintptr_t holder = 0;  // PyThreadState* of the last holder, as an integer: never dereferenced
  uint64_t switch_number = 0;
  // Where a thread waiting for the GIL sleeps: the GIL's condition variables
  // and mutexes (constant addresses). All empty: wait sampling unsupported.
  std::array<AddressRange, 4> wait_objects{};
};

// Reads the GIL state without the GIL; false when this interpreter version is
// not supported. Must be async-safe with respect to the interpreter (plain loads).
using GilReader = bool (*)(GilSnapshot*);

// Cumulative counters since the sampler started (or since fork).
struct GilTotals {
  bool supported = false;
  uint64_t samples = 0;
  uint64_t held_samples = 0;
  uint64_t switches = 0;  // GIL hand-overs observed (switch_number delta)
  double elapsed_s = 0;   // sampling time covered by `samples`
  // Held samples per holder, keyed by native thread id (0 = holder unknown:
  // a thread state the map has not seen yet).
  std::vector<std::pair<uint64_t, uint64_t>> held_by_thread;
  // GIL wait sampling (see GilWaitTracker); zero when !wait_supported.
  bool wait_supported = false;
  GilWaitTotals wait;
  uint64_t wait_read_errors = 0;  // unexpected /proc read or parse failures
};

// How often the sampler reads the GIL: every period while the GIL changes
// hands, every kIdleFactor periods once kIdleAfter consecutive readings saw no
// hand-over (an idle process — a gunicorn arbiter, a worker between requests —
// or a single Python thread serving alone, where there is no contention to
// resolve finely), back to every period at the first hand-over. Each reading
// counts as `weight()` samples (the periods it stands for), so the held ratio
// stays unbiased; a thread that starts waiting for the GIL forces a hand-over
// within one switch interval (5 ms), so contention is seen within ~10 ms. Not
// thread-safe: the sampling thread's own.
class SamplingPace {
 public:
  static constexpr uint32_t kIdleFactor = 10;
  static constexpr uint32_t kIdleAfter = 20;

  // The periods the next sleep lasts, and so the weight of the next reading.
  uint32_t weight() const { return idle_ ? kIdleFactor : 1; }
  // A reading was taken; `active`: the GIL changed hands since the last one.
  void observe(bool active) {
    if (active) {
      quiet_ = 0;
      idle_ = false;
    } else if (++quiet_ >= kIdleAfter) {
      idle_ = true;
    }
  }

 private:
  uint32_t quiet_ = 0;
  bool idle_ = false;
};

// Thread-safety: all public methods from any thread. The sampling thread never
// calls into Python; it only does plain loads through the GilReader.
// Why a holder→thread map fed by Python: walking the interpreter's thread list
// without the GIL races with thread-state deallocation, so the map is rebuilt
// only when Python calls in (runtime probes, gil_stats()), under the GIL.
class GilSampler {
 public:
  // Samples every `period` during the first `duty` fraction of each 5 s cycle
  // and sleeps for the rest: 500 µs wakeups cost ~1.3% of a core when
  // continuous. The default duty of 0.1 (1000 readings per 10 s metrics
  // interval) rather than 0.2: on one core shared with a busy worker each
  // wakeup also preempts the worker, and halving them took the sampler from
  // 2.4 to 1.7 µs of CPU per hello-world request and the worker's
  // preemptions from 0.20 to 0.14 per request. The held ratio is a ratio of
  // samples, so gaps do not bias it; switches are counted from the
  // interpreter's own counter, so none are missed during gaps. While the GIL
  // does not change hands the period stretches tenfold (SamplingPace), each
  // reading weighted accordingly: an arbiter, an idle worker or a
  // single-threaded worker serving requests wakes ~87% less often.
  //
  // Wait sampling runs inside the same windows, every `wait_period` or every
  // 100 µs per sampled thread if that is longer: one /proc read costs ~2 µs of
  // CPU, so the reads stay under ~2% of the window (~0.2% of a core at duty
  // 0.1). Only threads the interpreter knows (set_thread_map) are read, and
  // none while the GIL is free (nobody can be blocked on a free GIL but a
  // waiter already being woken).
  explicit GilSampler(GilReader reader,
                      std::chrono::microseconds period = std::chrono::microseconds(500),
                      double duty = 0.1,
                      std::chrono::microseconds wait_period = std::chrono::microseconds(2000));
  ~GilSampler();

  // Starts the thread if not running; no-op when the reader reports unsupported.
  void ensure_started();
  void stop();
  bool supported() const { return supported_; }
  bool wait_supported() const { return wait_supported_; }
  // Why wait sampling is off (nullptr when it is on).
  const char* wait_unsupported_reason() const { return wait_reason_; }

  // Replaces the PyThreadState* → native thread id map.
  void set_thread_map(std::vector<std::pair<uintptr_t, uint64_t>> map);
  GilTotals totals() const;

  // One sampling step (also used by tests with a fake reader), counted as
  // `weight` samples (see SamplingPace). Returns whether the GIL changed hands
  // since the previous step (false when it could not be read).
  bool sample_once(double dt_s, uint32_t weight = 1);
  // One wait-sampling tick at monotonic `now_ns`: reads the syscall file of
  // each mapped thread (not the holder) while the GIL is held. Sampling
  // thread only (or a test with the thread stopped).
  void sample_wait_once(int64_t now_ns);
  // Wait-episode durations (seconds) finished since the previous call; for
  // the metrics exporter, the only caller.
  common::ExpHistogram take_wait_episodes();

  void lock_for_fork() { mu_.lock(); }
  void unlock_for_fork() { mu_.unlock(); }
  void reset_in_child();  // counters to zero, thread forgotten (restarts lazily)

 private:
  void run();

  GilReader reader_;
  const std::chrono::microseconds period_;
  const double duty_;
  static constexpr int64_t kCycleNs = 5'000'000'000;
  bool supported_ = false;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::unique_ptr<std::thread> thread_;                     // guarded by mu_
  uint64_t samples_ = 0, held_ = 0, switches_ = 0;          // guarded by mu_
  double elapsed_s_ = 0;                                    // guarded by mu_
  bool have_last_ = false;                                  // guarded by mu_
  uint64_t last_switch_ = 0;                                // guarded by mu_
  std::unordered_map<uintptr_t, uint64_t> held_by_holder_;  // guarded by mu_
  std::unordered_map<uintptr_t, uint64_t> thread_map_;      // guarded by mu_
  uint64_t map_generation_ = 0;                             // guarded by mu_

  // Wait sampling.
  const std::chrono::microseconds wait_period_;
  bool wait_supported_ = false;
  const char* wait_reason_ = nullptr;
  std::array<AddressRange, 4> wait_objects_{};
  GilWaitTracker wait_;       // guarded by mu_
  uint64_t wait_errors_ = 0;  // guarded by mu_
  // Sampling-thread only (and stop()/reset_in_child() when it is not running).
  SyscallFiles files_;
  std::vector<uint64_t> wait_tids_;
  uint64_t seen_generation_ = ~uint64_t{0};
  std::vector<GilWaitObservation> obs_;
};

}  // namespace pyrometer::agent
