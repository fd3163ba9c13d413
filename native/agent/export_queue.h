// ExportQueue: the bounded hand-off between producers (tracer, logging) and the
// exporter thread. Bounded in units (spans, log records) and in bytes; full → drop and count.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

#include "agent/per_thread.h"

namespace pyrometer::agent {

// Thread-safety: push/stage/pop/stats from any thread. push never blocks on
// I/O: it holds the lock only to append; stage() takes only the calling
// thread's own lock. Lock order: stage registry → stage slots → the queue lock.
// Fork: the runtime's pthread_atfork prepare handler calls lock_for_fork();
// the parent then unlock_for_fork(); the child reset_in_child(), which empties
// the queue and the stages (the parent exports those items — the child must
// not export them again) and releases the locks.
template <typename T>
class ExportQueue {
 public:
  // Called with no lock held: on_pop on each item a pop_*() call took
  // (consumer thread), on_drop on each item push() or a stage join refused
  // (producer thread) — where work producers deferred to the queue's consumer
  // happens (or, for a refused item, happens anyway). Either may be empty.
  using Hook = std::function<void(T&)>;

  ExportQueue(size_t max_units, size_t max_bytes, Hook on_pop = nullptr, Hook on_drop = nullptr)
      : max_units_(max_units),
        max_bytes_(max_bytes),
        stage_units_(std::clamp<size_t>(max_units / 8, 1, kStageUnits)),
        on_pop_(std::move(on_pop)),
        on_drop_(std::move(on_drop)),
        stages_([this](Stage& s) { join(s, nullptr); }) {}

  // Takes `item` when both bounds allow it; otherwise drops it (after the
  // drop hook), adds `units` to dropped(), and returns false. An item bigger
  // than the byte bound on an empty queue is still accepted so one huge trace
  // cannot starve forever. *queued_after (if given) gets the queued units
  // after the call.
  bool push(T&& item, size_t units, size_t bytes, size_t* queued_after = nullptr) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      bool fits =
          units_ + units <= max_units_ && (bytes_ + bytes <= max_bytes_ || entries_.empty());
      if (queued_after != nullptr) *queued_after = units_ + (fits ? units : 0);
      if (fits) {
        entries_.push_back(Entry{std::move(item), units, bytes});
        units_ += units;
        bytes_ += bytes;
        update_full();
        return true;
      }
      dropped_.fetch_add(units, std::memory_order_relaxed);
    }
    if (on_drop_) on_drop_(item);
    return false;
  }

  // The producers' fast path: `append(T& stage)` adds `units` units to the
  // calling thread's stage, an item of its own, and returns about how many
  // bytes it added; no queue lock is taken. The stage joins the queue as one item — both bounds
  // checked for it whole; dropped (drop hook) and counted whole when it does not fit —
  // once it holds stage_units() units, whenever pop_batch() or drain_stages()
  // runs (the exporter, every cycle and on flush), and when the thread exits.
  // So at most stage_units() units per producer thread wait outside the bounds.
  // While the queue has no room for a whole stage, items are dropped (and
  // counted) right here instead, without append or the drop hook: an
  // overloaded producer pays the least (and the caller still holds them).
  // Returns the queued units after a join, or 0 when the stage did not join
  // (*dropped, if given, tells whether the items were dropped).
  static constexpr size_t kStageUnits = 64;
  // kStageUnits, or less for a small queue (an eighth of it, at least 1).
  size_t stage_units() const { return stage_units_; }
  template <typename Append>
  size_t stage(Append&& append, size_t units, bool* dropped = nullptr) {
    if (dropped != nullptr) *dropped = false;
    if (full_.load(std::memory_order_relaxed)) {
      dropped_.fetch_add(units, std::memory_order_relaxed);
      if (dropped != nullptr) *dropped = true;
      return 0;
    }
    auto* slot = stages_.local();
    std::lock_guard<SpinLock> lock(slot->mu);
    Stage& s = slot->state;
    s.bytes += append(s.item);
    s.units += units;
    if (s.units < stage_units_) return 0;
    size_t after = 0;
    bool ok = join(s, &after);
    if (dropped != nullptr) *dropped = !ok;
    return after;
  }

  // Moves every thread's stage into the queue (bounds and drops as in stage()).
  void drain_stages() {
    stages_.for_each([this](Stage& s) {
      if (s.units > 0) join(s, nullptr);
    });
  }

  // Drains the stages, then moves items (oldest first) into *out until adding
  // the next would exceed max_units; always takes at least one item when any
  // is queued. Applies the pop hook to each. Returns the units moved.
  size_t pop_batch(size_t max_units, std::vector<T>* out) {
    drain_stages();
    return take(max_units, 0, out);
  }

  // As pop_batch, without draining the stages: only items already queued.
  size_t pop_queued(size_t max_units, std::vector<T>* out) { return take(max_units, 0, out); }

  // As pop_batch, but only when a full batch is queued already: at least
  // full_units(max_units) units, not counting the stages, which are left
  // alone. Returns 0, taking nothing, otherwise. The exporter's path when
  // woken by producers: it never splits a producer's stage (each split makes
  // that thread allocate a fresh one) and never sends a short batch just
  // because it came back from the previous send.
  size_t pop_full_batch(size_t max_units, std::vector<T>* out) {
    return take(max_units, full_units(max_units), out);
  }
  // What counts as a full batch: max_units, or half the queue's capacity
  // when that is smaller (so a batch size above the capacity still fills).
  size_t full_units(size_t max_units) const {
    return std::max<size_t>(1, std::min(max_units, max_units_ / 2));
  }

  // Queued plus staged units.
  size_t units() const {
    size_t staged = 0;
    stages_.for_each([&](Stage& s) { staged += s.units; });
    std::lock_guard<std::mutex> lock(mu_);
    return units_ + staged;
  }
  size_t bytes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return bytes_;
  }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  // Counts units lost after they left the queue (e.g. export gave up retrying).
  void add_dropped(uint64_t units) { dropped_.fetch_add(units, std::memory_order_relaxed); }

  void lock_for_fork() {
    stages_.lock_for_fork();
    mu_.lock();
  }
  void unlock_for_fork() {
    mu_.unlock();
    stages_.unlock_for_fork();
  }
  void reset_in_child() {
    // The forking thread took every lock in lock_for_fork, so it may release them here.
    std::deque<Entry> old;
    old.swap(entries_);
    units_ = 0;
    bytes_ = 0;
    update_full();
    dropped_.store(0, std::memory_order_relaxed);
    mu_.unlock();
    stages_.reset_in_child([](Stage& s) { s = Stage{}; });
  }

 private:
  struct Entry {
    T item;
    size_t units;
    size_t bytes;
  };
  struct Stage {
    T item{};
    size_t units = 0;
    size_t bytes = 0;
  };
  // REQUIRES mu_. "No room for a whole stage" (a hint for stage(); push()
  // itself always checks the exact bounds).
  void update_full() {
    full_.store(units_ + stage_units_ > max_units_ || bytes_ >= max_bytes_,
                std::memory_order_relaxed);
  }
  // Moves items into *out as pop_batch describes, when at least `min_units`
  // are queued (outside the stages); applies the pop hook. Returns the units moved.
  size_t take(size_t max_units, size_t min_units, std::vector<T>* out) {
    const size_t first = out->size();
    size_t taken = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (units_ < min_units) return 0;
      while (!entries_.empty()) {
        Entry& e = entries_.front();
        if (taken > 0 && taken + e.units > max_units) break;
        taken += e.units;
        units_ -= e.units;
        bytes_ -= e.bytes;
        out->push_back(std::move(e.item));
        entries_.pop_front();
      }
      update_full();
    }
    if (on_pop_) {
      for (size_t i = first; i < out->size(); ++i) on_pop_((*out)[i]);
    }
    return taken;
  }
  // Pushes the stage as one item and empties it. REQUIRES its slot lock.
  bool join(Stage& s, size_t* queued_after) {
    bool ok = push(std::move(s.item), s.units, s.bytes, queued_after);
    s = Stage{};
    return ok;
  }

  const size_t max_units_;
  const size_t max_bytes_;
  const size_t stage_units_;
  const Hook on_pop_;
  const Hook on_drop_;
  mutable std::mutex mu_;
  std::deque<Entry> entries_;  // guarded by mu_
  size_t units_ = 0;           // guarded by mu_
  size_t bytes_ = 0;           // guarded by mu_
  std::atomic<uint64_t> dropped_{0};
  std::atomic<bool> full_{false};  // see update_full()
  // Last member: destroyed first, so an exiting thread's join never meets a
  // destroyed queue.
  mutable PerThread<Stage> stages_;
};

}  // namespace pyrometer::agent
