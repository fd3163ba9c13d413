// ThreadRoots: a fixed table, readable without the GIL and without locks,
// of each thread's active local root (trace id, span id, route), for samplers.
#include "agent/thread_roots.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>

#include "common/big_endian.h"

namespace pyrometer::agent {
namespace {

struct alignas(64) Slot {
  std::atomic<pid_t> tid{0};  // 0 = free
  std::atomic<uint32_t> seq{0};
  std::atomic<uint64_t> trace_hi{0};
  std::atomic<uint64_t> trace_lo{0};
  std::atomic<uint64_t> span_id{0};
  std::atomic<uint64_t> route_id{0};
};

Slot g_slots[kMaxThreadRoots];
std::atomic<uint64_t> g_overflow{0};

using common::load_be64;
using common::store_be64;

// The calling thread's slot. Trivially destructible, so reading it on every
// span enter costs no TLS-initialisation guard; the release at thread exit is
// done by a separate guard object, touched only when a slot is taken.
struct ThreadSlot {
  Slot* slot;
  bool overflowed;
  uint64_t published_span_id;
};
thread_local ThreadSlot t_slot{nullptr, false, 0};

struct SlotReleaser {
  ~SlotReleaser() {
    if (t_slot.slot != nullptr) t_slot.slot->tid.store(0, std::memory_order_release);
    t_slot.slot = nullptr;
    t_slot.overflowed = true;  // a span ending during thread teardown must not re-take a slot
  }
};
thread_local SlotReleaser t_releaser;

// Gives the calling thread a slot if it has none (t_slot.slot stays null on
// overflow); returns &t_slot. Out of line: the callers' fast path keeps the
// one TLS address it looked up (GCC re-computes it after a call).
[[gnu::noinline]] ThreadSlot* acquire_slot() {
  if (t_slot.slot != nullptr || t_slot.overflowed) return &t_slot;
  const pid_t me = static_cast<pid_t>(syscall(SYS_gettid));
  for (Slot& s : g_slots) {
    pid_t expected = 0;
    if (s.tid.load(std::memory_order_relaxed) == 0 &&
        s.tid.compare_exchange_strong(expected, me, std::memory_order_acq_rel)) {
      t_slot.slot = &s;
      (void)&t_releaser;  // registers the release at thread exit
      return &t_slot;
    }
  }
  t_slot.overflowed = true;
  g_overflow.fetch_add(1, std::memory_order_relaxed);
  return &t_slot;
}

void write_slot(Slot* s, uint64_t hi, uint64_t lo, uint64_t span, uint64_t route) {
  const uint32_t seq = s->seq.load(std::memory_order_relaxed);
  s->seq.store(seq + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  s->trace_hi.store(hi, std::memory_order_relaxed);
  s->trace_lo.store(lo, std::memory_order_relaxed);
  s->span_id.store(span, std::memory_order_relaxed);
  s->route_id.store(route, std::memory_order_relaxed);
  s->seq.store(seq + 2, std::memory_order_release);
}

bool read_slot(const Slot& s, ThreadRoot* out) {
  for (;;) {
    const uint32_t before = s.seq.load(std::memory_order_acquire);
    if (before & 1u) continue;
    const pid_t tid = s.tid.load(std::memory_order_relaxed);
    const uint64_t hi = s.trace_hi.load(std::memory_order_relaxed);
    const uint64_t lo = s.trace_lo.load(std::memory_order_relaxed);
    const uint64_t span = s.span_id.load(std::memory_order_relaxed);
    const uint64_t route = s.route_id.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (s.seq.load(std::memory_order_relaxed) != before) continue;
    if (tid == 0) return false;
    out->native_tid = tid;
    store_be64(hi, out->trace_id);
    store_be64(lo, out->trace_id + 8);
    out->root_span_id = span;
    out->route_id = route;
    return true;
  }
}

}  // namespace

void publish_thread_root(const uint8_t trace_id[16], uint64_t root_span_id, uint64_t route_id) {
  ThreadSlot* ts = &t_slot;
  if (ts->slot == nullptr) {
    ts = acquire_slot();
    if (ts->slot == nullptr) return;
  } else if (ts->published_span_id == root_span_id) {
    return;
  }
  write_slot(ts->slot, load_be64(trace_id), load_be64(trace_id + 8), root_span_id, route_id);
  ts->published_span_id = root_span_id;
}

void publish_thread_route(uint64_t root_span_id, uint64_t route_id) {
  Slot* s = t_slot.slot;
  if (s == nullptr || root_span_id == 0 || t_slot.published_span_id != root_span_id) return;
  write_slot(s, s->trace_hi.load(std::memory_order_relaxed),
             s->trace_lo.load(std::memory_order_relaxed), root_span_id, route_id);
}

void clear_thread_root() {
  if (t_slot.slot == nullptr || t_slot.published_span_id == 0) return;
  write_slot(t_slot.slot, 0, 0, 0, 0);
  t_slot.published_span_id = 0;
}

bool read_thread_root(pid_t tid, ThreadRoot* out) {
  for (const Slot& s : g_slots) {
    if (s.tid.load(std::memory_order_acquire) == tid)
      return read_slot(s, out) && out->native_tid == tid;
  }
  return false;
}

size_t snapshot_thread_roots(ThreadRoot* out, size_t max) {
  size_t n = 0;
  for (const Slot& s : g_slots) {
    if (n >= max) break;
    if (s.tid.load(std::memory_order_relaxed) == 0) continue;
    if (read_slot(s, &out[n])) ++n;
  }
  return n;
}

uint64_t thread_roots_overflow() { return g_overflow.load(std::memory_order_relaxed); }

void thread_roots_after_fork_in_child() {
  for (Slot& s : g_slots) {
    s.tid.store(0, std::memory_order_relaxed);
    s.seq.store(0, std::memory_order_relaxed);
    s.trace_hi.store(0, std::memory_order_relaxed);
    s.trace_lo.store(0, std::memory_order_relaxed);
    s.span_id.store(0, std::memory_order_relaxed);
    s.route_id.store(0, std::memory_order_relaxed);
  }
  // The forking thread survives; its tid changed, so it takes a new slot.
  t_slot.slot = nullptr;
  t_slot.overflowed = false;
  t_slot.published_span_id = 0;
}

}  // namespace pyrometer::agent
