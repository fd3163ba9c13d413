// Fast per-thread random numbers for trace and span ids: xoshiro256** seeded
// from the kernel (getrandom) per thread, re-seeded in forked children.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pyrometer::common {

// xoshiro256** (Blackman & Vigna): 256-bit state, period 2^256-1, passes
// BigCrush, ~1 ns per number. Not cryptographic: ids need uniqueness and
// uniform bits (for ratio sampling), not unpredictability.
// Not thread-safe: one instance per thread (random_u64() does that for you).
class Xoshiro256 {
 public:
  // Deterministic: expands `seed` with SplitMix64, so any seed (even 0) gives
  // a valid non-zero state. For tests and reproducible simulations.
  explicit Xoshiro256(uint64_t seed);
  // Takes the state as is; an all-zero state is replaced by a fixed non-zero one.
  Xoshiro256(uint64_t s0, uint64_t s1, uint64_t s2, uint64_t s3);

  uint64_t next() { return step(s_); }

  // One xoshiro256** step on a state held elsewhere (random_u64()'s per-thread
  // state, which must stay trivially constructible): advances s, returns the output.
  static uint64_t step(uint64_t s[4]) {
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
  }

  // Uniform double in [0, 1) from the top 53 bits.
  double next_double() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// SplitMix64 step: advances *state and returns a well-mixed 64-bit value.
uint64_t splitmix64(uint64_t* state);

// A uniformly random 64-bit number from this thread's generator. Each thread
// seeds its own generator lazily from getrandom(2) (falling back to time,
// pid, tid and addresses if the kernel pool is not ready), so no locks and no
// shared cache lines. Never blocks, never fails, async-signal-unsafe.
uint64_t random_u64();
// out[0..n) = n successive random_u64() values, for the price of one call
// (a new trace needs three: trace id and root span id).
void random_fill(uint64_t* out, size_t n);

// Marks every thread's generator stale so that its next random_u64() re-seeds
// from the kernel. Call it in a forked child before it makes any id: without
// it, parent and child would continue the same sequence and produce identical
// trace ids (gunicorn --preload, celery prefork).
//
// The agent calls this from its at-fork hook (os.register_at_fork(after_in_child=...)
// and pthread_atfork). As a safety net this library also registers it with
// pthread_atfork(child) the first time a generator is seeded, so a plain fork()
// is covered even if the agent's hook did not run. Calling it more than once
// is harmless. Async-signal-safe (a single atomic increment).
void reseed_after_fork();

// How many times this process has called reseed_after_fork() (for tests and
// diagnostics).
uint64_t reseed_generation();

}  // namespace pyrometer::common
