// GilSampler implementation: a sleep/read loop on its own pthread; counters
// under a mutex that only this thread and occasional readers take.
#include "agent/gil_sampler.h"

#include <time.h>

namespace pyrometer::agent {

GilSampler::GilSampler(GilReader reader, std::chrono::microseconds period, double duty)
    : reader_(reader),
      period_(period),
      duty_(duty <= 0  ? 0.01
            : duty > 1 ? 1.0
                       : duty) {
  GilSnapshot probe;
  supported_ = reader_ != nullptr && reader_(&probe);
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
}

void GilSampler::set_thread_map(std::vector<std::pair<uintptr_t, uint64_t>> map) {
  std::lock_guard<std::mutex> lock(mu_);
  thread_map_.clear();
  for (auto& [ptr, tid] : map) thread_map_[ptr] = tid;
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
  return t;
}

void GilSampler::sample_once(double dt_s) {
  GilSnapshot s;
  if (!reader_(&s)) return;
  std::lock_guard<std::mutex> lock(mu_);
  ++samples_;
  elapsed_s_ += dt_s;
  if (s.locked) {
    ++held_;
    // Bounded: thread states are few; if a churn of short-lived threads grows
    // the map, the oldest information is dropped wholesale.
    if (held_by_holder_.size() > 4096) held_by_holder_.clear();
    ++held_by_holder_[s.holder];
  }
  if (have_last_ && s.switch_number >= last_switch_) switches_ += s.switch_number - last_switch_;
  last_switch_ = s.switch_number;
  have_last_ = true;
}

void GilSampler::run() {
  auto now_ns = [] {
    timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return static_cast<int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
  };
  const int64_t active_ns = static_cast<int64_t>(duty_ * kCycleNs);
  int64_t prev = now_ns();
  int64_t cycle_start = prev;
  const timespec req{0, static_cast<long>(period_.count() * 1000)};
  while (!stop_.load(std::memory_order_relaxed)) {
    int64_t now = now_ns();
    if (now - cycle_start >= active_ns && active_ns < kCycleNs) {
      // Gap: sleep in short steps so stop() stays prompt.
      while (!stop_.load(std::memory_order_relaxed) && now_ns() - cycle_start < kCycleNs) {
        const timespec step{0, 50'000'000};
        nanosleep(&step, nullptr);
      }
      cycle_start = now_ns();
    }
    nanosleep(&req, nullptr);
    now = now_ns();
    sample_once(static_cast<double>(now - prev) * 1e-9);
    prev = now;
  }
}

void GilSampler::reset_in_child() {
  (void)thread_.release();  // the parent's thread does not exist in the child
  samples_ = held_ = switches_ = 0;
  elapsed_s_ = 0;
  have_last_ = false;
  held_by_holder_.clear();
  thread_map_.clear();
  stop_.store(false);
  mu_.unlock();
}

}  // namespace pyrometer::agent
