// Tests for the clocks: real clocks are sane and ordered, the fake clock
// moves only when told to.
#include "common/clock.h"

#include <gtest/gtest.h>

namespace pyrometer::common {
namespace {

TEST(ClockTest, WallClockIsAfter2020) {
  // 2020-01-01T00:00:00Z in nanoseconds.
  EXPECT_GT(wall_unix_nano(), 1'577'836'800'000'000'000ull);
  EXPECT_GT(SystemClock::instance().wall_unix_nano(), 1'577'836'800'000'000'000ull);
}

TEST(ClockTest, MonotonicNeverGoesBackwards) {
  uint64_t prev = monotonic_nano();
  for (int i = 0; i < 10000; ++i) {
    uint64_t now = SystemClock::instance().monotonic_nano();
    ASSERT_GE(now, prev);
    prev = now;
  }
}

TEST(FakeClockTest, MovesOnlyWhenAdvanced) {
  FakeClock clock(1000, 50);
  const Clock& c = clock;
  EXPECT_EQ(c.wall_unix_nano(), 1000u);
  EXPECT_EQ(c.monotonic_nano(), 50u);
  clock.advance(250);
  EXPECT_EQ(c.wall_unix_nano(), 1250u);
  EXPECT_EQ(c.monotonic_nano(), 300u);
}

TEST(FakeClockTest, WallStepLeavesMonotonicAlone) {
  FakeClock clock(1000, 50);
  clock.set_wall(10);  // NTP stepped the clock back
  EXPECT_EQ(clock.wall_unix_nano(), 10u);
  EXPECT_EQ(clock.monotonic_nano(), 50u);
}

}  // namespace
}  // namespace pyrometer::common
