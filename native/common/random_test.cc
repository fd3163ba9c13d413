// Tests for the per-thread generator: reference outputs, distinct streams
// per thread, and a forked child that does not repeat its parent's ids.
#include "common/random.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bit>
#include <set>
#include <thread>
#include <vector>

namespace pyrometer::common {
namespace {

TEST(Xoshiro256Test, MatchesReferenceSequence) {
  // First outputs of the reference C implementation from state {1, 2, 3, 4}.
  Xoshiro256 rng(1, 2, 3, 4);
  EXPECT_EQ(rng.next(), 11520u);
  EXPECT_EQ(rng.next(), 0u);
  EXPECT_EQ(rng.next(), 1509978240u);
  EXPECT_EQ(rng.next(), 1215971899390074240u);
}

TEST(Xoshiro256Test, AllZeroStateIsRepaired) {
  Xoshiro256 rng(0, 0, 0, 0);
  uint64_t acc = 0;
  for (int i = 0; i < 8; ++i) acc |= rng.next();
  EXPECT_NE(acc, 0u);
}

TEST(Xoshiro256Test, SeedIsDeterministicAndDoublesInUnitInterval) {
  Xoshiro256 a(42), b(42), c(43);
  EXPECT_EQ(a.next(), b.next());
  EXPECT_NE(a.next(), c.next());
  for (int i = 0; i < 10000; ++i) {
    double d = a.next_double();
    ASSERT_GE(d, 0.0);
    ASSERT_LT(d, 1.0);
  }
}

TEST(RandomTest, NoRepeatsAndBalancedBits) {
  std::set<uint64_t> seen;
  uint64_t ones = 0;
  constexpr int kN = 100000;
  for (int i = 0; i < kN; ++i) {
    uint64_t v = random_u64();
    seen.insert(v);
    ones += std::popcount(v);
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kN));
  // 6.4M bits: the share of ones is 0.5 +- 0.0002 (1 sigma); allow 10 sigma.
  double share = static_cast<double>(ones) / (64.0 * kN);
  EXPECT_NEAR(share, 0.5, 0.002);
}

TEST(RandomTest, FillContinuesTheThreadsStream) {
  // Same generator as random_u64(): a fill and single draws never repeat each
  // other, and a fill of n gives n distinct values.
  std::set<uint64_t> seen;
  uint64_t ids[3];
  for (int i = 0; i < 10000; ++i) {
    random_fill(ids, 3);
    for (uint64_t v : ids) seen.insert(v);
    seen.insert(random_u64());
  }
  EXPECT_EQ(seen.size(), 40000u);
  random_fill(ids, 0);  // nothing to fill: no effect, no crash
}

TEST(RandomTest, ThreadsGetIndependentStreams) {
  constexpr int kThreads = 4, kPer = 1000;
  std::vector<std::vector<uint64_t>> out(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&out, t] {
      for (int i = 0; i < kPer; ++i) out[t].push_back(random_u64());
    });
  }
  for (auto& th : threads) th.join();
  std::set<uint64_t> all;
  for (auto& v : out) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kPer));
}

TEST(RandomTest, ReseedBumpsGeneration) {
  uint64_t before = reseed_generation();
  reseed_after_fork();
  EXPECT_EQ(reseed_generation(), before + 1);
  // The next number comes from a freshly seeded generator; it is still random.
  std::set<uint64_t> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(random_u64());
  EXPECT_EQ(seen.size(), 1000u);
}

// Runs fork() and returns the child's next `n` numbers next to the parent's.
void fork_and_compare(bool child_calls_reseed) {
  (void)random_u64();  // make sure this thread is seeded before the fork
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  constexpr int kN = 8;
  if (pid == 0) {
    if (child_calls_reseed) reseed_after_fork();
    uint64_t vals[kN];
    for (auto& v : vals) v = random_u64();
    ssize_t w = write(fds[1], vals, sizeof(vals));
    _exit(w == static_cast<ssize_t>(sizeof(vals)) ? 0 : 1);
  }
  close(fds[1]);
  uint64_t parent[kN], child[kN];
  for (auto& v : parent) v = random_u64();
  size_t got = 0;
  while (got < sizeof(child)) {
    ssize_t r = read(fds[0], reinterpret_cast<char*>(child) + got, sizeof(child) - got);
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  ASSERT_EQ(got, sizeof(child));
  for (int i = 0; i < kN; ++i) EXPECT_NE(parent[i], child[i]) << i;
}

TEST(RandomTest, ForkedChildCallingReseedDiverges) { fork_and_compare(true); }

TEST(RandomTest, ForkedChildDivergesThroughAtforkSafetyNet) { fork_and_compare(false); }

}  // namespace
}  // namespace pyrometer::common
