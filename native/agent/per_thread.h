// PerThread<S>: one S per (thread, owner) for hot-path accumulators that a
// collector merges now and then; plus SpinLock, the lock the owner thread takes.
#pragma once

#include <sched.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace pyrometer::agent {

// A test-and-test-and-set lock. Held for tens of nanoseconds by the thread
// that owns the data and, rarely (every export interval), for a few
// microseconds by a collector; so it spins briefly, then yields. Cheaper
// than std::mutex on the uncontended path (one exchange, one store).
class SpinLock {
 public:
  void lock() {
    for (int spins = 0; flag_.exchange(true, std::memory_order_acquire);) {
      while (flag_.load(std::memory_order_relaxed)) {
        if (++spins > 64) sched_yield();
      }
    }
  }
  void unlock() { flag_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> flag_{false};
};

// PerThread<S> gives each thread its own S (default-constructed on the
// thread's first local() call) and lets any thread visit all of them.
//
// Thread-safety: local() is for the calling thread only; the returned slot's
// `mu` must be held to touch `state`, by its thread as by visitors.
// for_each() and the fork hooks take the registry lock, then each slot lock:
// callers must not hold a slot lock when calling them (lock order: registry
// → slot → whatever the visitor takes).
//
// Thread exit: the thread's slot is handed to `on_exit(S&)` (under the
// registry and slot locks) and then freed, as long as the owner is alive; the
// owner's destructor detaches the registry first, so an exiting thread never
// touches a destroyed owner. Owners may be created and destroyed freely (tests).
//
// Fork: lock_for_fork() (prepare) takes every lock; unlock_for_fork()
// (parent) releases them; reset_in_child(fn) calls fn on the forking thread's
// slot, forgets the slots of the threads that do not exist in the child, and
// releases the locks.
template <typename S>
class PerThread {
 public:
  struct Slot {
    SpinLock mu;
    S state;  // guarded by mu
  };

  template <typename OnExit>
  explicit PerThread(OnExit on_exit) : reg_(std::make_shared<Registry>()) {
    reg_->on_exit = std::move(on_exit);
    reg_->alive = true;
  }
  ~PerThread() {
    std::lock_guard<std::mutex> lock(reg_->mu);
    reg_->alive = false;  // exiting threads now only free their slot
  }
  PerThread(const PerThread&) = delete;
  PerThread& operator=(const PerThread&) = delete;

  // The calling thread's slot, created on first use (allocates once).
  Slot* local() {
    Last& last = last_used();  // trivially destructible: no TLS guard to check
    if (last.reg == reg_.get()) return last.slot;
    return local_slow(holder(), last);
  }

  // Calls fn(S&) for every live thread's state, each under its slot lock.
  template <typename Fn>
  void for_each(Fn&& fn) {
    std::lock_guard<std::mutex> lock(reg_->mu);
    for (auto& slot : reg_->slots) {
      std::lock_guard<SpinLock> slot_lock(slot->mu);
      fn(slot->state);
    }
  }

  size_t thread_count() const {
    std::lock_guard<std::mutex> lock(reg_->mu);
    return reg_->slots.size();
  }

  void lock_for_fork() {
    reg_->mu.lock();
    for (auto& slot : reg_->slots) slot->mu.lock();
  }
  void unlock_for_fork() {
    for (auto& slot : reg_->slots) slot->mu.unlock();
    reg_->mu.unlock();
  }
  template <typename Fn>
  void reset_in_child(Fn&& reset_own) {
    Holder& h = holder();
    Slot* own = nullptr;
    for (auto& e : h.entries) {
      if (e.first.get() == reg_.get()) own = e.second;
    }
    std::vector<std::unique_ptr<Slot>> keep;
    for (auto& slot : reg_->slots) {
      if (slot.get() == own) {
        reset_own(slot->state);
        slot->mu.unlock();
        keep.push_back(std::move(slot));
      } else {
        // Its thread does not exist here: nobody will lock or free it again.
        // Its lock is held (by us), so leaking it is the only safe choice.
        (void)slot.release();
      }
    }
    reg_->slots = std::move(keep);
    reg_->mu.unlock();
  }

 private:
  struct Registry {
    mutable std::mutex mu;
    bool alive = false;                        // guarded by mu
    std::vector<std::unique_ptr<Slot>> slots;  // guarded by mu
    std::function<void(S&)> on_exit;           // set before publication
  };
  using Entry = std::pair<std::shared_ptr<Registry>, Slot*>;

  // One per thread and S: the slots of this thread in every owner.
  struct Holder {
    std::vector<Entry> entries;
    ~Holder() {
      last_used() = Last{};  // a later local() on this thread starts afresh
      for (auto& [reg, slot] : entries) retire(*reg, slot);
    }
  };
  // The thread's most recently used slot (a cache of one Holder entry).
  struct Last {
    Registry* reg = nullptr;
    Slot* slot = nullptr;
  };
  static Last& last_used() {
    thread_local Last last;
    return last;
  }

  static void retire(Registry& reg, Slot* slot) {
    std::lock_guard<std::mutex> lock(reg.mu);
    for (auto it = reg.slots.begin(); it != reg.slots.end(); ++it) {
      if (it->get() != slot) continue;
      if (reg.alive) {
        std::lock_guard<SpinLock> slot_lock(slot->mu);
        reg.on_exit(slot->state);
      }
      reg.slots.erase(it);
      return;
    }
  }

  static Holder& holder() {
    thread_local Holder h;
    return h;
  }

  Slot* local_slow(Holder& h, Last& last) {
    Slot* slot = nullptr;
    for (auto it = h.entries.begin(); it != h.entries.end();) {
      if (it->first == reg_) {
        slot = it->second;
        ++it;
        continue;
      }
      bool alive;
      {
        std::lock_guard<std::mutex> lock(it->first->mu);
        alive = it->first->alive;
      }
      if (alive) {
        ++it;
      } else {  // its owner is gone: free the slot now rather than at thread exit
        retire(*it->first, it->second);
        it = h.entries.erase(it);
      }
    }
    if (slot == nullptr) {
      auto owned = std::make_unique<Slot>();
      slot = owned.get();
      {
        std::lock_guard<std::mutex> lock(reg_->mu);
        reg_->slots.push_back(std::move(owned));
      }
      h.entries.emplace_back(reg_, slot);
    }
    last.reg = reg_.get();
    last.slot = slot;
    return slot;
  }

  std::shared_ptr<Registry> reg_;
};

}  // namespace pyrometer::agent
