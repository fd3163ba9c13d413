// ThreadRoots: a fixed table, readable without the GIL and without locks,
// of each thread's active local root (trace id, span id, route), for samplers.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

namespace pyrometer::agent {

// What a sampler reads for one thread. All-zero ids: no active local root.
struct ThreadRoot {
  pid_t native_tid = 0;
  uint8_t trace_id[16] = {};
  uint64_t root_span_id = 0;  // big-endian value of the root's span id
  uint64_t route_id = 0;      // opaque (0 = unknown); see publish_thread_root
};

// At most this many threads publish at once; threads beyond it are counted
// (thread_roots_overflow()) and simply not visible to samplers.
inline constexpr size_t kMaxThreadRoots = 512;

// Publishes the calling thread's active local root. Each slot is a seqlock:
// the writer (only ever the owning thread) makes the sequence odd, writes,
// makes it even; readers retry on a change. A no-op when `root_span_id`
// is already the published one, so calling it on every span enter is cheap.
// `route_id` is an opaque key the caller chooses (e.g. an interned route).
// Async-signal-unsafe; never blocks; the slot is released at thread exit.
void publish_thread_root(const uint8_t trace_id[16], uint64_t root_span_id, uint64_t route_id);
// Updates the route of the calling thread's published root, if that root is
// still `root_span_id` (the route is often known only after routing).
void publish_thread_route(uint64_t root_span_id, uint64_t route_id);
// The calling thread has no active local root any more.
void clear_thread_root();

// Reads the root published by thread `tid`. False when the thread has no
// slot. Any thread, no GIL, lock-free (retries while a write is in flight).
bool read_thread_root(pid_t tid, ThreadRoot* out);
// Copies every occupied slot into out[0..max); returns how many.
size_t snapshot_thread_roots(ThreadRoot* out, size_t max);
uint64_t thread_roots_overflow();

// In a forked child: every other thread is gone, so their slots are freed.
void thread_roots_after_fork_in_child();

}  // namespace pyrometer::agent
