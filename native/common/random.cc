// Per-thread xoshiro256** generators: kernel seeding, and the generation
// counter that makes forked children re-seed.
#include "common/random.h"

#include <pthread.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "common/clock.h"

namespace pyrometer::common {

uint64_t splitmix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

Xoshiro256::Xoshiro256(uint64_t seed) {
  for (uint64_t& s : s_) s = splitmix64(&seed);
}

Xoshiro256::Xoshiro256(uint64_t s0, uint64_t s1, uint64_t s2, uint64_t s3) : s_{s0, s1, s2, s3} {
  if ((s0 | s1 | s2 | s3) == 0) s_[0] = 0x9e3779b97f4a7c15ull;  // the one forbidden state
}

namespace {

// Bumped by reseed_after_fork(); each thread remembers the value it seeded at.
// Starts at 1 so a thread's zero-initialised generation means "never seeded".
std::atomic<uint64_t> g_generation{1};
std::atomic<bool> g_atfork_registered{false};

// One trivially-constructible thread_local: no TLS init guard, and a single
// TLS address lookup per call (in PIC code each thread_local costs one).
struct ThreadRng {
  uint64_t generation;  // 0 = never seeded
  uint64_t s[4];
};
thread_local ThreadRng tl_rng;

void atfork_child() { reseed_after_fork(); }

void fill_seed(uint64_t out[4]) {
  unsigned char* p = reinterpret_cast<unsigned char*>(out);
  size_t want = 4 * sizeof(uint64_t);
  size_t got = 0;
  while (got < want) {
    ssize_t n = getrandom(p + got, want - got, GRND_NONBLOCK);
    if (n > 0) {
      got += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;  // EAGAIN (pool not initialised yet, early boot) or ENOSYS
    }
  }
  if (got < want) {
    // Fallback: not secret, but distinct per thread, process and instant,
    // which is all ids need.
    uint64_t mix = monotonic_nano() ^ (wall_unix_nano() << 1);
    mix ^= static_cast<uint64_t>(getpid()) << 32;
    mix ^= static_cast<uint64_t>(syscall(SYS_gettid)) << 16;
    mix ^= reinterpret_cast<uintptr_t>(&tl_rng);
    for (int i = 0; i < 4; ++i) out[i] ^= splitmix64(&mix);
  }
  if ((out[0] | out[1] | out[2] | out[3]) == 0) out[0] = 0x9e3779b97f4a7c15ull;
}

// Seeds the calling thread's generator; returns it. Out of line and cold: the
// callers' fast path is one TLS address lookup, reused after this returns
// (GCC re-computes a thread_local's address after a call rather than keep it).
[[gnu::noinline, gnu::cold]] ThreadRng* seeded_rng(uint64_t generation) {
  if (!g_atfork_registered.exchange(true, std::memory_order_acq_rel)) {
    // Failure (ENOMEM) leaves only the agent's own hook; nothing else to do.
    (void)pthread_atfork(nullptr, nullptr, &atfork_child);
  }
  fill_seed(tl_rng.s);
  tl_rng.generation = generation;
  return &tl_rng;
}

// This thread's generator, seeded for the current fork generation.
inline ThreadRng* thread_rng() {
  ThreadRng* rng = &tl_rng;
  const uint64_t generation = g_generation.load(std::memory_order_relaxed);
  if (__builtin_expect(rng->generation != generation, 0)) rng = seeded_rng(generation);
  return rng;
}

}  // namespace

uint64_t random_u64() { return Xoshiro256::step(thread_rng()->s); }

void random_fill(uint64_t* out, size_t n) {
  uint64_t* s = thread_rng()->s;
  for (size_t i = 0; i < n; ++i) out[i] = Xoshiro256::step(s);
}

void reseed_after_fork() { g_generation.fetch_add(1, std::memory_order_relaxed); }

uint64_t reseed_generation() { return g_generation.load(std::memory_order_relaxed) - 1; }

}  // namespace pyrometer::common
