// GilWaitTracker: episode durations from tick times (mid-point edges),
// censoring at window edges and when a thread leaves, per-thread tick counts.
#include "agent/gil_sampler_wait.h"

#include <gtest/gtest.h>

namespace pyrometer::agent {
namespace {

constexpr int64_t kMs = 1'000'000;

uint64_t waiting_of(const GilWaitTotals& t, uint64_t tid, uint64_t* observed = nullptr) {
  for (const auto& [id, c] : t.by_thread) {
    if (id == tid) {
      if (observed != nullptr) *observed = c.first;
      return c.second;
    }
  }
  return 0;
}

TEST(GilWaitTrackerTest, EpisodeLengthIsTheTicksBetweenMidpoints) {
  GilWaitTracker w;
  // Thread 7 waits at ticks 2..4 (2 ms apart): edges at 3 ms and 9 ms → 6 ms.
  w.tick(0 * kMs, {{7, false}, {8, false}});
  w.tick(2 * kMs, {{7, false}, {8, false}});
  w.tick(4 * kMs, {{7, true}, {8, false}});
  w.tick(6 * kMs, {{7, true}, {8, false}});
  w.tick(8 * kMs, {{7, true}, {8, false}});
  w.tick(10 * kMs, {{7, false}, {8, false}});
  GilWaitTotals t = w.totals();
  EXPECT_EQ(t.ticks, 6u);
  EXPECT_EQ(t.waiting_samples, 3u);
  EXPECT_EQ(t.episodes, 1u);
  EXPECT_NEAR(t.episode_seconds, 0.006, 1e-12);
  uint64_t observed = 0;
  EXPECT_EQ(waiting_of(t, 7, &observed), 3u);
  EXPECT_EQ(observed, 6u);
  EXPECT_EQ(waiting_of(t, 8), 0u);
  common::ExpHistogram h = w.take_episodes();
  EXPECT_EQ(h.count(), 1u);
  EXPECT_NEAR(h.sum(), 0.006, 1e-12);
  EXPECT_EQ(w.take_episodes().count(), 0u);  // taken once
  EXPECT_EQ(w.totals().episodes, 1u);        // cumulative totals stay
}

TEST(GilWaitTrackerTest, SingleTickWaitCountsAsOnePeriod) {
  GilWaitTracker w;
  w.tick(0, {{1, false}});
  w.tick(2 * kMs, {{1, true}});
  w.tick(4 * kMs, {{1, false}});
  EXPECT_NEAR(w.totals().episode_seconds, 0.002, 1e-12);
}

TEST(GilWaitTrackerTest, EpisodesCutByAWindowEdgeAreCensored) {
  GilWaitTracker w;
  w.tick(0, {{1, true}});  // already waiting when the window opened: start unknown
  w.tick(2 * kMs, {{1, false}});
  w.tick(4 * kMs, {{1, true}});  // still waiting when the window closes: end unknown
  w.end_window();
  w.tick(1000 * kMs, {{1, false}});
  w.tick(1002 * kMs, {{1, true}});
  w.tick(1004 * kMs, {{1, false}});  // the only complete episode
  GilWaitTotals t = w.totals();
  EXPECT_EQ(t.episodes, 1u);
  EXPECT_NEAR(t.episode_seconds, 0.002, 1e-12);
  EXPECT_EQ(t.waiting_samples, 3u);  // ratios count every waiting tick, censored or not
}

TEST(GilWaitTrackerTest, AThreadThatLeavesTheObservedSetIsCensored) {
  GilWaitTracker w;
  w.tick(0, {{1, false}, {2, false}});
  w.tick(2 * kMs, {{1, true}, {2, true}});
  w.tick(4 * kMs, {{2, true}});  // 1 left (exited, or the map changed)
  w.tick(6 * kMs, {{1, false}, {2, false}});
  GilWaitTotals t = w.totals();
  EXPECT_EQ(t.episodes, 1u);  // only thread 2's: edges 1 ms and 5 ms
  EXPECT_NEAR(t.episode_seconds, 0.004, 1e-12);
}

TEST(GilWaitTrackerTest, ResetForgetsEverything) {
  GilWaitTracker w;
  w.tick(0, {{1, false}});
  w.tick(2 * kMs, {{1, true}});
  w.tick(4 * kMs, {{1, false}});
  w.reset();
  GilWaitTotals t = w.totals();
  EXPECT_EQ(t.ticks, 0u);
  EXPECT_EQ(t.episodes, 0u);
  EXPECT_TRUE(t.by_thread.empty());
  EXPECT_EQ(w.take_episodes().count(), 0u);
}

}  // namespace
}  // namespace pyrometer::agent
