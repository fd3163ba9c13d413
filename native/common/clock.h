// Clocks: wall time (Unix epoch) and a monotonic time source for durations,
// behind an injectable interface so tests can drive time by hand.
#pragma once

#include <atomic>
#include <cstdint>

namespace pyrometer::common {

// Nanoseconds since the Unix epoch (CLOCK_REALTIME). May jump backwards when
// the system clock is set: use it for timestamps, never for durations.
uint64_t wall_unix_nano();

// Nanoseconds from an arbitrary fixed origin (CLOCK_MONOTONIC). Never goes
// backwards; meaningless across processes or machines. Use it for durations.
uint64_t monotonic_nano();

// The injectable clock. Components that stamp or time things take a Clock&
// (owned by the caller, who keeps it alive longer than the component), so a
// test can pass a FakeClock. Implementations must be thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual uint64_t wall_unix_nano() const = 0;
  virtual uint64_t monotonic_nano() const = 0;
};

// The real clocks. Stateless; `SystemClock::instance()` is a process-wide one.
class SystemClock final : public Clock {
 public:
  uint64_t wall_unix_nano() const override;
  uint64_t monotonic_nano() const override;
  static SystemClock& instance();
};

// A clock that moves only when told to. Both readings advance together, so
// a duration measured on the monotonic side matches the wall-clock difference.
// Thread-safe: readers may run concurrently with advance()/set_wall().
class FakeClock final : public Clock {
 public:
  explicit FakeClock(uint64_t wall_start = 1'700'000'000'000'000'000ull,
                     uint64_t monotonic_start = 1'000'000'000ull)
      : wall_(wall_start), mono_(monotonic_start) {}

  uint64_t wall_unix_nano() const override { return wall_.load(std::memory_order_acquire); }
  uint64_t monotonic_nano() const override { return mono_.load(std::memory_order_acquire); }

  // Moves both clocks forward by `nanos`.
  void advance(uint64_t nanos) {
    wall_.fetch_add(nanos, std::memory_order_acq_rel);
    mono_.fetch_add(nanos, std::memory_order_acq_rel);
  }
  // Sets the wall clock alone (simulates an NTP step, possibly backwards);
  // the monotonic clock is untouched, as on a real machine.
  void set_wall(uint64_t wall) { wall_.store(wall, std::memory_order_release); }

 private:
  std::atomic<uint64_t> wall_;
  std::atomic<uint64_t> mono_;
};

}  // namespace pyrometer::common
