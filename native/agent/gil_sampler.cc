// GilSampler implementation: a sleep/read loop on its own pthread; counters
// under a mutex that only this thread and occasional readers take.
#include "agent/gil_sampler.h"

#include <pthread.h>
#include <time.h>

#include <algorithm>

namespace pyrometer::agent {
namespace {

// CPU budget of wait sampling: one tick every this much per sampled thread at
// least (a /proc read costs ~2 µs: ≤ ~2% of the sampling windows).
constexpr int64_t kWaitNsPerThread = 100'000;

}  // namespace

GilSampler::GilSampler(GilReader reader, std::chrono::microseconds period, double duty,
                       std::chrono::microseconds wait_period)
    : reader_(reader),
      period_(period),
      duty_(duty <= 0  ? 0.01
            : duty > 1 ? 1.0
                       : duty),
      wait_period_(wait_period) {
  GilSnapshot probe;
  supported_ = reader_ != nullptr && reader_(&probe);
  bool have_objects = false;
  for (const AddressRange& r : probe.wait_objects) have_objects = have_objects || r.end > r.begin;
  if (!supported_) {
    wait_reason_ = "the GIL state of this interpreter cannot be read";
  } else if (!have_objects) {
    wait_reason_ = "the GIL's wait objects are not known for this interpreter";
  } else {
    wait_reason_ = proc_syscall_unavailable_reason();
  }
  wait_supported_ = wait_reason_ == nullptr;
  if (wait_supported_) wait_objects_ = probe.wait_objects;
}

GilSampler::~GilSampler() { stop(); }

void GilSampler::ensure_started() {
  if (!supported_) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_) return;
  stop_.store(false);
  thread_ = std::make_unique<std::thread>([this] { run(); });
}

void GilSampler::stop() {
  std::unique_ptr<std::thread> t;
  {
    std::lock_guard<std::mutex> lock(mu_);
    t = std::move(thread_);
  }
  if (!t) return;
  stop_.store(true);
  t->join();
  files_.close_all();  // the sampling thread is gone: nobody else touches files_
}

void GilSampler::set_thread_map(std::vector<std::pair<uintptr_t, uint64_t>> map) {
  std::lock_guard<std::mutex> lock(mu_);
  thread_map_.clear();
  for (auto& [ptr, tid] : map) thread_map_[ptr] = tid;
  ++map_generation_;
}

GilTotals GilSampler::totals() const {
  GilTotals t;
  t.supported = supported_;
  std::lock_guard<std::mutex> lock(mu_);
  t.samples = samples_;
  t.held_samples = held_;
  t.switches = switches_;
  t.elapsed_s = elapsed_s_;
  std::unordered_map<uint64_t, uint64_t> by_tid;
  for (const auto& [holder, n] : held_by_holder_) {
    auto it = thread_map_.find(holder);
    by_tid[it == thread_map_.end() ? 0 : it->second] += n;
  }
  t.held_by_thread.assign(by_tid.begin(), by_tid.end());
  t.wait_supported = wait_supported_;
  if (wait_supported_) {
    t.wait = wait_.totals();
    t.wait_read_errors = wait_errors_;
  }
  return t;
}

common::ExpHistogram GilSampler::take_wait_episodes() {
  std::lock_guard<std::mutex> lock(mu_);
  return wait_.take_episodes();
}

void GilSampler::sample_wait_once(int64_t now_ns) {
  if (!wait_supported_) return;
  GilSnapshot s;
  if (!reader_(&s)) return;
  uint64_t holder_tid = 0;
  bool remap = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (seen_generation_ != map_generation_) {
      seen_generation_ = map_generation_;
      wait_tids_.clear();
      for (const auto& [ptr, tid] : thread_map_) wait_tids_.push_back(tid);
      std::sort(wait_tids_.begin(), wait_tids_.end());
      wait_tids_.erase(std::unique(wait_tids_.begin(), wait_tids_.end()), wait_tids_.end());
      if (wait_tids_.size() > SyscallFiles::kMaxFiles) wait_tids_.resize(SyscallFiles::kMaxFiles);
      remap = true;
    }
    auto it = thread_map_.find(s.holder);
    if (it != thread_map_.end()) holder_tid = it->second;
  }
  if (remap) files_.retain(wait_tids_);
  // The /proc reads happen outside mu_: totals() never waits for them.
  obs_.clear();
  for (uint64_t tid : wait_tids_) {
    bool waiting = false;
    ProcSyscall sc;
    if (s.locked && tid != holder_tid && files_.read(tid, &sc)) {
      waiting = is_futex_wait_on(sc, wait_objects_.data(), wait_objects_.size());
    }
    obs_.push_back({tid, waiting});
  }
  std::lock_guard<std::mutex> lock(mu_);
  wait_.tick(now_ns, obs_);
  wait_errors_ = files_.errors();
}

bool GilSampler::sample_once(double dt_s, uint32_t weight) {
  GilSnapshot s;
  if (!reader_(&s)) return false;
  std::lock_guard<std::mutex> lock(mu_);
  samples_ += weight;
  elapsed_s_ += dt_s;
  if (s.locked) {
    held_ += weight;
    // Bounded: thread states are few; if a churn of short-lived threads grows
    // the map, the oldest information is dropped wholesale.
    if (held_by_holder_.size() > 4096) held_by_holder_.clear();
    held_by_holder_[s.holder] += weight;
  }
  const bool handed_over = have_last_ && s.switch_number != last_switch_;
  if (have_last_ && s.switch_number >= last_switch_) switches_ += s.switch_number - last_switch_;
  last_switch_ = s.switch_number;
  have_last_ = true;
  return handed_over;
}

void GilSampler::run() {
  // Named (at most 15 characters), so `top -H` and /proc/<pid>/task/*/comm tell it from the app's.
  pthread_setname_np(pthread_self(), "pyrometer-gil");
  auto now_ns = [] {
    timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return static_cast<int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
  };
  const int64_t active_ns = static_cast<int64_t>(duty_ * kCycleNs);
  int64_t prev = now_ns();
  int64_t cycle_start = prev;
  int64_t next_wait = prev;
  SamplingPace pace;
  while (!stop_.load(std::memory_order_relaxed)) {
    int64_t now = now_ns();
    if (now - cycle_start >= active_ns && active_ns < kCycleNs) {
      if (wait_supported_) {
        std::lock_guard<std::mutex> lock(mu_);
        wait_.end_window();  // episodes still open are cut: censored
      }
      // Gap: sleep in short steps so stop() stays prompt.
      while (!stop_.load(std::memory_order_relaxed) && now_ns() - cycle_start < kCycleNs) {
        const timespec step{0, 50'000'000};
        nanosleep(&step, nullptr);
      }
      cycle_start = now_ns();
    }
    const uint32_t weight = pace.weight();
    const int64_t sleep_ns = static_cast<int64_t>(period_.count()) * 1000 * weight;
    const timespec req{static_cast<time_t>(sleep_ns / 1'000'000'000),
                       static_cast<long>(sleep_ns % 1'000'000'000)};
    nanosleep(&req, nullptr);
    now = now_ns();
    pace.observe(sample_once(static_cast<double>(now - prev) * 1e-9, weight));
    prev = now;
    if (wait_supported_ && now >= next_wait) {
      sample_wait_once(now);
      const int64_t spacing = std::max<int64_t>(
          wait_period_.count() * 1000, static_cast<int64_t>(wait_tids_.size()) * kWaitNsPerThread);
      next_wait = now + spacing;
    }
  }
}

void GilSampler::reset_in_child() {
  (void)thread_.release();  // the parent's thread does not exist in the child
  samples_ = held_ = switches_ = 0;
  elapsed_s_ = 0;
  have_last_ = false;
  held_by_holder_.clear();
  thread_map_.clear();
  ++map_generation_;
  // Inherited descriptors name the parent's threads: close the child's copies.
  files_.close_all();
  wait_tids_.clear();
  wait_.reset();
  wait_errors_ = 0;
  stop_.store(false);
  mu_.unlock();
}

}  // namespace pyrometer::agent
