// ExportQueue: unit and byte bounds, drop counting, batch popping, fork reset.
#include "agent/export_queue.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

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

using IntBatch = std::vector<int>;

size_t stage_one(ExportQueue<IntBatch>& q, int v, bool* dropped = nullptr) {
  return q.stage(
      [v](IntBatch& b) {
        b.push_back(v);
        return size_t{1};
      },
      1, dropped);
}

size_t pop_all(ExportQueue<IntBatch>& q, std::vector<int>* values) {
  std::vector<IntBatch> out;
  size_t units = q.pop_batch(1 << 30, &out);
  for (auto& b : out) values->insert(values->end(), b.begin(), b.end());
  return units;
}

TEST(ExportQueueTest, StageJoinsTheQueueWhenFullAsOneItem) {
  ExportQueue<IntBatch> q(1000, 1 << 20);
  const int k = static_cast<int>(q.stage_units());
  EXPECT_EQ(q.stage_units(), ExportQueue<IntBatch>::kStageUnits);
  for (int i = 0; i < k - 1; ++i) EXPECT_EQ(stage_one(q, i), 0u);  // staged only
  EXPECT_EQ(q.units(), static_cast<size_t>(k - 1));                // staged units count
  EXPECT_EQ(stage_one(q, k - 1), static_cast<size_t>(k));          // joined
  std::vector<IntBatch> out;
  EXPECT_EQ(q.pop_batch(1, &out), static_cast<size_t>(k));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].size(), static_cast<size_t>(k));
  EXPECT_EQ(out[0].front(), 0);
}

TEST(ExportQueueTest, PopQueuedLeavesTheStages) {
  ExportQueue<IntBatch> q(1000, 1 << 20);
  q.push(IntBatch{1, 2}, 2, 1);
  stage_one(q, 3);
  std::vector<IntBatch> out;
  EXPECT_EQ(q.pop_queued(100, &out), 2u);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], (IntBatch{1, 2}));
  out.clear();
  EXPECT_EQ(q.pop_queued(100, &out), 0u);  // the staged value stays with its thread
  EXPECT_EQ(q.units(), 1u);
  std::vector<int> values;
  EXPECT_EQ(pop_all(q, &values), 1u);
  EXPECT_EQ(values, (std::vector<int>{3}));
}

TEST(ExportQueueTest, PopFullBatchTakesOnlyAFullQueuedBatchAndLeavesStages) {
  ExportQueue<IntBatch> q(1000, 1 << 20);
  const int k = static_cast<int>(q.stage_units());
  for (int i = 0; i < k; ++i) stage_one(q, i);      // one stage joined: k queued
  for (int i = 0; i < 3; ++i) stage_one(q, k + i);  // 3 staged
  std::vector<IntBatch> out;
  EXPECT_EQ(q.pop_full_batch(k + 1, &out), 0u);  // k queued < k + 1; stages not counted
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(q.units(), static_cast<size_t>(k + 3));  // nothing drained
  EXPECT_EQ(q.pop_full_batch(k, &out), static_cast<size_t>(k));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].size(), static_cast<size_t>(k));
  EXPECT_EQ(q.units(), 3u);  // the stage is still its thread's
}

TEST(ExportQueueTest, AFullBatchIsAtMostHalfTheCapacity) {
  ExportQueue<int> q(10, 1000);
  EXPECT_EQ(q.full_units(4), 4u);
  EXPECT_EQ(q.full_units(512), 5u);  // a batch size above the capacity still fills
  for (int i = 0; i < 5; ++i) q.push(int{i}, 1, 1);
  std::vector<int> out;
  EXPECT_EQ(q.pop_full_batch(512, &out), 5u);
}

TEST(ExportQueueTest, PopDrainsTheStagesOfLivingThreadsInOrder) {
  ExportQueue<IntBatch> q(1000, 1 << 20);
  std::atomic<bool> staged{false}, finish{false};
  std::thread producer([&] {
    for (int i = 0; i < 5; ++i) stage_one(q, i);
    staged.store(true);
    while (!finish.load()) std::this_thread::yield();
  });
  while (!staged.load()) std::this_thread::yield();
  std::vector<int> values;
  EXPECT_EQ(pop_all(q, &values), 5u);  // a flush must not wait for the stage to fill
  EXPECT_EQ(values, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(q.units(), 0u);
  finish.store(true);
  producer.join();
}

TEST(ExportQueueTest, ThreadExitJoinsItsStage) {
  ExportQueue<IntBatch> q(1000, 1 << 20);
  std::thread([&] {
    for (int i = 0; i < 3; ++i) stage_one(q, i);
  }).join();
  std::vector<int> values;
  EXPECT_EQ(pop_all(q, &values), 3u);
}

TEST(ExportQueueTest, StagesKeepTheBoundAndCountDrops) {
  ExportQueue<IntBatch> q(/*max_units=*/100, 1 << 20);
  const size_t k = q.stage_units();  // 100 / 8
  EXPECT_EQ(k, 12u);
  bool dropped = false;
  size_t staged = 0;
  for (; staged < 96; ++staged) stage_one(q, 1, &dropped);  // 8 whole stages joined
  EXPECT_FALSE(dropped);
  EXPECT_EQ(q.dropped(), 0u);
  // 96 + 12 > 100: no room for a stage, so further items are dropped at once.
  for (size_t i = 0; i < 10; ++i) stage_one(q, 2, &dropped);
  EXPECT_TRUE(dropped);
  EXPECT_EQ(q.dropped(), 10u);
  std::vector<int> values;
  EXPECT_EQ(pop_all(q, &values), 96u);
  EXPECT_EQ(stage_one(q, 3, &dropped), 0u);  // room again: staged
  EXPECT_FALSE(dropped);
}

TEST(ExportQueueTest, AJoiningStageThatDoesNotFitIsDroppedWhole) {
  ExportQueue<IntBatch> q(/*max_units=*/100, 1 << 20);
  q.push(IntBatch(90, 0), 90, 1);  // 90 + 12 > 100: stage() drops at once now
  bool dropped = false;
  stage_one(q, 1, &dropped);
  EXPECT_TRUE(dropped);
  std::vector<int> values;
  pop_all(q, &values);  // empty again: stages are taken
  for (int i = 0; i < 5; ++i) stage_one(q, 1, &dropped);
  q.push(IntBatch(97, 0), 97, 1);  // the partial stage (5) no longer fits
  q.drain_stages();
  EXPECT_EQ(q.dropped(), 1u + 5u);
}

TEST(ExportQueueTest, ASmallQueueStagesOneItemAtATime) {
  ExportQueue<IntBatch> q(/*max_units=*/5, 1 << 20);
  EXPECT_EQ(q.stage_units(), 1u);
  bool dropped = false;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(stage_one(q, i, &dropped), static_cast<size_t>(i + 1));
  stage_one(q, 9, &dropped);
  EXPECT_TRUE(dropped);
  EXPECT_EQ(q.dropped(), 1u);
}

TEST(ExportQueueTest, ManyProducersLoseNothingWhileAConsumerPops) {
  ExportQueue<IntBatch> q(1 << 30, 1 << 30);
  constexpr int kThreads = 4, kPerThread = 20000;
  std::atomic<bool> done{false};
  size_t popped = 0;
  std::thread consumer([&] {
    std::vector<int> values;
    while (!done.load()) popped += pop_all(q, &values);
    popped += pop_all(q, &values);
  });
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) stage_one(q, i);
    });
  }
  for (auto& p : producers) p.join();
  done.store(true);
  consumer.join();
  EXPECT_EQ(popped, static_cast<size_t>(kThreads) * kPerThread);
  EXPECT_EQ(q.dropped(), 0u);
}

void add_hundred(IntBatch& b) {
  for (int& v : b) v += 100;
}

TEST(ExportQueueTest, PopHookRunsOnEveryPoppedItem) {
  ExportQueue<IntBatch> q(1000, 1 << 20, &add_hundred);
  q.push(IntBatch{1, 2}, 2, 1);
  stage_one(q, 3);
  std::vector<int> values;
  pop_all(q, &values);
  EXPECT_EQ(values, (std::vector<int>{101, 102, 103}));
}

TEST(ExportQueueTest, ResetInChildForgetsTheStages) {
  ExportQueue<IntBatch> q(1000, 1 << 20);
  stage_one(q, 1);
  q.lock_for_fork();
  q.reset_in_child();
  EXPECT_EQ(q.units(), 0u);  // the parent exports the staged span, not the child
  stage_one(q, 2);           // the stage (and its lock) still work
  std::vector<int> values;
  pop_all(q, &values);
  EXPECT_EQ(values, (std::vector<int>{2}));
}

TEST(ExportQueueTest, ForkWithAnotherThreadsStageChildExportsNothingTwice) {
  ExportQueue<IntBatch> q(1000, 1 << 20);
  std::atomic<bool> staged{false}, finish{false};
  std::thread other([&] {
    stage_one(q, 7);
    staged.store(true);
    while (!finish.load()) std::this_thread::yield();
  });
  while (!staged.load()) std::this_thread::yield();
  stage_one(q, 8);
  q.lock_for_fork();
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    q.reset_in_child();
    int bad = 0;
    if (q.units() != 0) bad |= 1;
    stage_one(q, 9);
    std::vector<int> values;
    pop_all(q, &values);
    if (values != std::vector<int>{9}) bad |= 2;
    _exit(bad);
  }
  q.unlock_for_fork();
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  std::vector<int> values;
  EXPECT_EQ(pop_all(q, &values), 2u);  // the parent keeps both stages
  finish.store(true);
  other.join();
}

}  // namespace
}  // namespace pyrometer::agent
