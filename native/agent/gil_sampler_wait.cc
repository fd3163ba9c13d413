// GilWaitTracker: per-thread wait tick counters and wait-episode durations
// estimated from tick times (see gil_sampler_wait.h for the estimator).
#include "agent/gil_sampler_wait.h"

namespace pyrometer::agent {

void GilWaitTracker::tick(int64_t now_ns, const std::vector<GilWaitObservation>& obs) {
  if (threads_.size() + obs.size() > kMaxThreads) threads_.clear();  // thread churn
  const uint64_t t = ++ticks_;
  for (const GilWaitObservation& o : obs) {
    Thread& th = threads_[o.tid];
    // Seen at the previous tick of this window: its state between that tick
    // and this one is bracketed, so an edge there can be placed.
    const bool continuing = last_tick_ns_ >= 0 && th.last_tick + 1 == t;
    ++th.observed;
    if (o.waiting) {
      ++th.waiting;
      ++waiting_samples_;
      if (!continuing || !th.was_waiting) {
        th.censored = !continuing;
        th.start_ns = continuing ? last_tick_ns_ + (now_ns - last_tick_ns_) / 2 : 0;
      }
    } else if (continuing && th.was_waiting && !th.censored) {
      const int64_t end_ns = last_tick_ns_ + (now_ns - last_tick_ns_) / 2;
      if (end_ns > th.start_ns) {
        const double secs = static_cast<double>(end_ns - th.start_ns) * 1e-9;
        pending_.record(secs);
        ++episodes_;
        episode_seconds_ += secs;
      }
    }
    th.was_waiting = o.waiting;
    th.last_tick = t;
  }
  last_tick_ns_ = now_ns;
}

void GilWaitTracker::end_window() { last_tick_ns_ = -1; }

GilWaitTotals GilWaitTracker::totals() const {
  GilWaitTotals out;
  out.ticks = ticks_;
  out.waiting_samples = waiting_samples_;
  out.episodes = episodes_;
  out.episode_seconds = episode_seconds_;
  out.by_thread.reserve(threads_.size());
  for (const auto& [tid, th] : threads_) out.by_thread.push_back({tid, {th.observed, th.waiting}});
  return out;
}

common::ExpHistogram GilWaitTracker::take_episodes() {
  common::ExpHistogram out = pending_;
  pending_.clear();
  return out;
}

void GilWaitTracker::reset() {
  ticks_ = waiting_samples_ = episodes_ = 0;
  episode_seconds_ = 0;
  last_tick_ns_ = -1;
  threads_.clear();
  pending_.clear();
}

}  // namespace pyrometer::agent
