// BufferPool<T>: a bounded stack of emptied buffers that a consumer hands back
// for producers to fill again, so a hot producer does not allocate (and fault
// in) a fresh buffer for every batch it stages.
#pragma once

#include <cstddef>
#include <mutex>
#include <utility>
#include <vector>

#include "agent/per_thread.h"

namespace pyrometer::agent {

// Why: the tracer stages kept spans in 64-span vectors (16 KB) that the
// exporter frees after sending; glibc then trims the freed memory and the
// application thread's next stage faults its pages in again — measured as
// ~8% of a tight span loop's CPU, in the kernel. Recycling a few buffers
// keeps that memory warm and off the application thread's books.
//
// Thread-safety: put/take from any thread (a spin lock held for one move).
// Fork: lock_for_fork() in prepare, unlock_for_fork() in parent and child
// (the buffers are plain memory, still valid in the child).
template <typename T>
class BufferPool {
 public:
  explicit BufferPool(size_t max_buffers) : max_(max_buffers) {}
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  // Keeps `buffer` (which the caller emptied) unless the pool is full, in
  // which case it is destroyed here. Returns whether it was kept.
  bool put(T&& buffer) {
    std::lock_guard<SpinLock> lock(mu_);
    if (spares_.size() >= max_) return false;
    spares_.push_back(std::move(buffer));
    return true;
  }

  // Moves a spare into *out and returns true, or returns false (leaving *out
  // alone) when none is left.
  bool take(T* out) {
    std::lock_guard<SpinLock> lock(mu_);
    if (spares_.empty()) return false;
    *out = std::move(spares_.back());
    spares_.pop_back();
    return true;
  }

  size_t size() const {
    std::lock_guard<SpinLock> lock(mu_);
    return spares_.size();
  }

  void lock_for_fork() { mu_.lock(); }
  void unlock_for_fork() { mu_.unlock(); }

 private:
  const size_t max_;
  mutable SpinLock mu_;
  std::vector<T> spares_;  // guarded by mu_; capacity reserved lazily, at most max_
};

}  // namespace pyrometer::agent
