// ExportQueue: the bounded hand-off between producers (tracer, logging) and the
// exporter thread. Bounded in units (spans, log records) and in bytes; full → drop and count.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <utility>
#include <vector>

namespace pyrometer::agent {

// Thread-safety: push/pop/stats from any thread. push never blocks on I/O:
// it holds the lock only to append. Fork: the runtime's pthread_atfork prepare
// handler calls lock_for_fork(); the parent then unlock_for_fork(); the child
// reset_in_child(), which empties the queue (the parent exports those items —
// the child must not export them again) and releases the lock.
template <typename T>
class ExportQueue {
 public:
  ExportQueue(size_t max_units, size_t max_bytes) : max_units_(max_units), max_bytes_(max_bytes) {}

  // Takes `item` when both bounds allow it; otherwise drops it, adds `units`
  // to dropped(), and returns false. An item bigger than the byte bound on an
  // empty queue is still accepted so one huge trace cannot starve forever.
  bool push(T&& item, size_t units, size_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    bool fits = units_ + units <= max_units_ && (bytes_ + bytes <= max_bytes_ || entries_.empty());
    if (!fits) {
      dropped_.fetch_add(units, std::memory_order_relaxed);
      return false;
    }
    entries_.push_back(Entry{std::move(item), units, bytes});
    units_ += units;
    bytes_ += bytes;
    return true;
  }

  // Moves items (oldest first) into *out until adding the next would exceed
  // max_units; always takes at least one item when any is queued. Returns the
  // units moved.
  size_t pop_batch(size_t max_units, std::vector<T>* out) {
    std::lock_guard<std::mutex> lock(mu_);
    size_t taken = 0;
    while (!entries_.empty()) {
      Entry& e = entries_.front();
      if (taken > 0 && taken + e.units > max_units) break;
      taken += e.units;
      units_ -= e.units;
      bytes_ -= e.bytes;
      out->push_back(std::move(e.item));
      entries_.pop_front();
    }
    return taken;
  }

  size_t units() const {
    std::lock_guard<std::mutex> lock(mu_);
    return units_;
  }
  size_t bytes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return bytes_;
  }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  // Counts units lost after they left the queue (e.g. export gave up retrying).
  void add_dropped(uint64_t units) { dropped_.fetch_add(units, std::memory_order_relaxed); }

  void lock_for_fork() { mu_.lock(); }
  void unlock_for_fork() { mu_.unlock(); }
  void reset_in_child() {
    // The forking thread took mu_ in lock_for_fork, so it may release it here.
    std::deque<Entry> old;
    old.swap(entries_);
    units_ = 0;
    bytes_ = 0;
    dropped_.store(0, std::memory_order_relaxed);
    mu_.unlock();
  }

 private:
  struct Entry {
    T item;
    size_t units;
    size_t bytes;
  };
  const size_t max_units_;
  const size_t max_bytes_;
  mutable std::mutex mu_;
  std::deque<Entry> entries_;  // guarded by mu_
  size_t units_ = 0;           // guarded by mu_
  size_t bytes_ = 0;           // guarded by mu_
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace pyrometer::agent
