// Clocks: clock_gettime-based wall and monotonic readings, and the
// process-wide SystemClock instance.
#include "common/clock.h"

#include <time.h>

namespace pyrometer::common {

namespace {
uint64_t read(clockid_t id) {
  struct timespec ts;
  // clock_gettime on these two ids cannot fail on Linux (vDSO, valid id,
  // valid pointer); a zero reading would be the visible sign if it ever did.
  if (clock_gettime(id, &ts) != 0) return 0;
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}
}  // namespace

uint64_t wall_unix_nano() { return read(CLOCK_REALTIME); }
uint64_t monotonic_nano() { return read(CLOCK_MONOTONIC); }

uint64_t SystemClock::wall_unix_nano() const { return common::wall_unix_nano(); }
uint64_t SystemClock::monotonic_nano() const { return common::monotonic_nano(); }

SystemClock& SystemClock::instance() {
  static SystemClock clock;
  return clock;
}

}  // namespace pyrometer::common
