// RuntimeMetrics: process and interpreter health sampled at each metrics
// interval — /proc readings (no GIL), values fed by Python probes, the GIL sampler.
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

#include "agent/exporter.h"
#include "agent/gil_sampler.h"
#include "common/exp_histogram.h"

namespace pyrometer::agent {

// One reading of /proc/self and getrusage. Fields are -1 when unavailable.
struct ProcessSample {
  double cpu_user_s = -1;
  double cpu_system_s = -1;
  int64_t rss_bytes = -1;
  int64_t peak_rss_bytes = -1;
  int64_t pss_bytes = -1;  // /proc/self/smaps_rollup (Linux ≥ 4.14)
  int64_t open_fds = -1;
  int64_t threads = -1;
};

// Reads the current process. Never fails as a whole: unreadable parts stay -1.
ProcessSample read_process_sample();

// Thread-safety: record_* and set_* from any thread (Python calls them with the
// GIL held, the native side never needs it); collect() on the exporter thread.
class RuntimeMetrics : public MetricsSource {
 public:
  // `gil` may be nullptr (no GIL metrics).
  explicit RuntimeMetrics(GilSampler* gil) : gil_(gil) {}

  // One finished garbage collection (from gc.callbacks "stop").
  void record_gc(int generation, double pause_s);
  // How late an asyncio loop's heartbeat fired.
  void record_loop_lag(double lag_s);
  // Interpreter gauges sampled by Python (see python/pyrometer/runtime.py).
  void set_python_gauges(int64_t modules, int64_t allocated_blocks, const int64_t gc_count[3]);

  void collect(MetricsBuilder* out, uint64_t start_ns, uint64_t now_ns) override;

  void lock_for_fork() { mu_.lock(); }
  void unlock_for_fork() { mu_.unlock(); }
  void reset_in_child();

 private:
  // pyrometer.gil.wait / waiting_threads / thread_wait_ratio for the interval
  // since last_gil_ (exporter thread).
  void collect_gil_wait(MetricsBuilder* out, const GilTotals& t, uint64_t start_ns,
                        uint64_t now_ns);

  GilSampler* gil_;
  std::mutex mu_;
  uint64_t gc_collections_[3] = {0, 0, 0};      // guarded by mu_; delta since last collect
  common::ExpHistogram gc_pause_[3];            // guarded by mu_
  common::ExpHistogram loop_lag_;               // guarded by mu_
  bool have_python_ = false;                    // guarded by mu_
  int64_t modules_ = 0, allocated_blocks_ = 0;  // guarded by mu_
  int64_t gc_count_[3] = {0, 0, 0};             // guarded by mu_
  // Exporter-thread-only state for deltas.
  double last_cpu_[2] = {-1, -1};
  GilTotals last_gil_;
};

}  // namespace pyrometer::agent
