// ExportQueue: unit and byte bounds, drop counting, batch popping, fork reset.
#include "agent/export_queue.h"

#include <gtest/gtest.h>

#include <string>

namespace pyrometer::agent {
namespace {

TEST(ExportQueueTest, DropsAndCountsWhenUnitsFull) {
  ExportQueue<std::string> q(/*max_units=*/10, /*max_bytes=*/1 << 20);
  EXPECT_TRUE(q.push("a", 6, 1));
  EXPECT_FALSE(q.push("b", 5, 1));  // 11 > 10
  EXPECT_TRUE(q.push("c", 4, 1));
  EXPECT_EQ(q.units(), 10u);
  EXPECT_EQ(q.dropped(), 5u);
}

TEST(ExportQueueTest, ByteBoundAcceptsOneOversizedItemOnlyWhenEmpty) {
  ExportQueue<std::string> q(100, /*max_bytes=*/10);
  EXPECT_TRUE(q.push("big", 1, 50));
  EXPECT_FALSE(q.push("next", 1, 1));
  EXPECT_EQ(q.dropped(), 1u);
}

TEST(ExportQueueTest, PopBatchTakesOldestFirstUpToMaxUnits) {
  ExportQueue<int> q(100, 1000);
  for (int i = 0; i < 5; ++i) q.push(int{i}, 3, 1);
  std::vector<int> out;
  EXPECT_EQ(q.pop_batch(7, &out), 6u);  // 3 + 3; a third would make 9
  EXPECT_EQ(out, (std::vector<int>{0, 1}));
  out.clear();
  EXPECT_EQ(q.pop_batch(1, &out), 3u);  // always at least one item
  EXPECT_EQ(out, (std::vector<int>{2}));
  EXPECT_EQ(q.units(), 6u);
  EXPECT_EQ(q.bytes(), 2u);
}

TEST(ExportQueueTest, ResetInChildEmptiesAndReleasesTheLock) {
  ExportQueue<int> q(10, 100);
  q.push(1, 1, 1);
  q.push(2, 20, 1);  // dropped
  q.lock_for_fork();
  q.reset_in_child();
  EXPECT_EQ(q.units(), 0u);  // would deadlock if the lock were still held
  EXPECT_EQ(q.dropped(), 0u);
  EXPECT_TRUE(q.push(3, 1, 1));
}

}  // namespace
}  // namespace pyrometer::agent
