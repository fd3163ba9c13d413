// BufferPool: bounded, hands back the buffers it was given, capacity intact.
#include "agent/buffer_pool.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace pyrometer::agent {
namespace {

TEST(BufferPoolTest, TakeReturnsWhatWasPutWithItsCapacity) {
  BufferPool<std::vector<int>> pool(2);
  std::vector<int> v;
  v.reserve(64);
  const int* data = v.data();
  EXPECT_TRUE(pool.put(std::move(v)));
  std::vector<int> out;
  ASSERT_TRUE(pool.take(&out));
  EXPECT_EQ(out.data(), data);  // the same memory, not a copy
  EXPECT_GE(out.capacity(), 64u);
  EXPECT_FALSE(pool.take(&out));  // empty now; *out left alone
  EXPECT_EQ(out.data(), data);
}

TEST(BufferPoolTest, RefusesBeyondItsBound) {
  BufferPool<std::vector<int>> pool(2);
  EXPECT_TRUE(pool.put(std::vector<int>(1)));
  EXPECT_TRUE(pool.put(std::vector<int>(1)));
  EXPECT_FALSE(pool.put(std::vector<int>(1)));
  EXPECT_EQ(pool.size(), 2u);
}

TEST(BufferPoolTest, ConcurrentPutAndTakeLoseNothing) {
  BufferPool<std::vector<int>> pool(1000);
  constexpr int kPerThread = 10000;
  std::thread producer([&] {
    for (int i = 0; i < kPerThread; ++i) {
      while (!pool.put(std::vector<int>(1, i))) {
      }
    }
  });
  int taken = 0;
  long long sum = 0;
  std::vector<int> v;
  while (taken < kPerThread) {
    if (pool.take(&v)) {
      ++taken;
      sum += v[0];
    }
  }
  producer.join();
  EXPECT_EQ(sum, static_cast<long long>(kPerThread) * (kPerThread - 1) / 2);
  EXPECT_EQ(pool.size(), 0u);
}

}  // namespace
}  // namespace pyrometer::agent
