// Tests for ThreadRoots: each thread publishes its own local root, readers see
// consistent (never torn) values, and slots are released at thread exit.
#include "agent/thread_roots.h"

#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>

namespace pyrometer::agent {
namespace {

pid_t my_tid() { return static_cast<pid_t>(syscall(SYS_gettid)); }

TEST(ThreadRootsTest, PublishReadClear) {
  uint8_t trace[16];
  for (int i = 0; i < 16; ++i) trace[i] = static_cast<uint8_t>(i + 1);
  publish_thread_root(trace, 0x1122334455667788ull, 7);
  ThreadRoot r;
  ASSERT_TRUE(read_thread_root(my_tid(), &r));
  EXPECT_EQ(std::memcmp(r.trace_id, trace, 16), 0);
  EXPECT_EQ(r.root_span_id, 0x1122334455667788ull);
  EXPECT_EQ(r.route_id, 7u);
  clear_thread_root();
  ASSERT_TRUE(read_thread_root(my_tid(), &r));
  EXPECT_EQ(r.root_span_id, 0u);
}

TEST(ThreadRootsTest, OtherThreadsSeeConsistentValuesAndSlotIsFreedAtExit) {
  std::atomic<bool> stop{false};
  std::atomic<pid_t> writer_tid{0};
  std::thread writer([&] {
    uint8_t trace[16];
    std::memset(trace, 1, 16);
    publish_thread_root(trace, 1, 1);
    // Only now may the reader look: before the first publish the slot does not
    // exist, and a busy machine can keep this thread off-CPU for a whole loop.
    writer_tid = my_tid();
    for (uint64_t i = 2; !stop.load(); ++i) {
      // Every byte of the trace id equals the low byte of the span id: a torn
      // read would break that relation.
      std::memset(trace, static_cast<int>(i & 0xff), 16);
      publish_thread_root(trace, i, i);
    }
  });
  while (writer_tid.load() == 0) std::this_thread::yield();
  int checked = 0;
  for (int i = 0; i < 20000; ++i) {
    ThreadRoot r;
    ASSERT_TRUE(read_thread_root(writer_tid.load(), &r));
    ASSERT_NE(r.root_span_id, 0u);
    ASSERT_EQ(r.trace_id[0], static_cast<uint8_t>(r.root_span_id & 0xff));
    ASSERT_EQ(r.trace_id[15], static_cast<uint8_t>(r.root_span_id & 0xff));
    ASSERT_EQ(r.route_id, r.root_span_id);
    ++checked;
  }
  stop = true;
  writer.join();
  EXPECT_EQ(checked, 20000);
  ThreadRoot r;
  EXPECT_FALSE(read_thread_root(writer_tid.load(), &r));  // released at thread exit
}

}  // namespace
}  // namespace pyrometer::agent
