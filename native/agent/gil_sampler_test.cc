// GilSampler with a fake reader: held ratio, switch counting, holder → thread
// mapping, "unsupported" when the reader says so, and wait sampling of real
// threads blocked on a stand-in "GIL" condition variable.
#include "agent/gil_sampler.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace pyrometer::agent {
namespace {

GilSnapshot g_fake;
bool fake_reader(GilSnapshot* out) {
  *out = g_fake;
  return true;
}
bool unsupported_reader(GilSnapshot*) { return false; }

TEST(GilSamplerTest, CountsHeldSamplesSwitchesAndHolders) {
  g_fake = {false, 0, 10};
  GilSampler s(&fake_reader);
  ASSERT_TRUE(s.supported());
  s.set_thread_map({{0x1000, 111}, {0x2000, 222}});
  s.sample_once(0.001);  // idle
  g_fake = {true, 0x1000, 12};
  s.sample_once(0.001);
  s.sample_once(0.001);
  g_fake = {true, 0x2000, 15};
  s.sample_once(0.001);
  g_fake = {true, 0x3000, 15};  // a thread the map has not seen
  s.sample_once(0.001);
  GilTotals t = s.totals();
  EXPECT_EQ(t.samples, 5u);
  EXPECT_EQ(t.held_samples, 4u);
  EXPECT_EQ(t.switches, 5u);
  EXPECT_NEAR(t.elapsed_s, 0.005, 1e-9);
  uint64_t by111 = 0, by222 = 0, unknown = 0;
  for (auto [tid, n] : t.held_by_thread) {
    if (tid == 111) by111 = n;
    if (tid == 222) by222 = n;
    if (tid == 0) unknown = n;
  }
  EXPECT_EQ(by111, 2u);
  EXPECT_EQ(by222, 1u);
  EXPECT_EQ(unknown, 1u);
}

TEST(GilSamplerTest, WeightedSamplesKeepTheHeldRatioAndReportHandOvers) {
  g_fake = {false, 0, 7};
  GilSampler s(&fake_reader);
  EXPECT_FALSE(s.sample_once(0.001));      // first reading: free, no hand-over seen yet
  EXPECT_FALSE(s.sample_once(0.005, 10));  // idle pace: one reading stands for ten
  g_fake = {false, 0, 8};
  EXPECT_TRUE(s.sample_once(0.001));  // free now, but it changed hands meanwhile
  g_fake = {true, 0x1000, 8};
  // Held by the same thread without a hand-over: one thread running alone,
  // nothing to resolve finely, so the pace may slow down.
  EXPECT_FALSE(s.sample_once(0.001, 10));
  GilTotals t = s.totals();
  EXPECT_EQ(t.samples, 22u);
  EXPECT_EQ(t.held_samples, 10u);
  EXPECT_EQ(t.switches, 1u);
  EXPECT_NEAR(t.elapsed_s, 0.008, 1e-9);
}

TEST(SamplingPaceTest, SlowsDownWithoutHandOversAndSpeedsUpAtTheFirst) {
  SamplingPace pace;
  EXPECT_EQ(pace.weight(), 1u);
  for (uint32_t i = 0; i + 1 < SamplingPace::kIdleAfter; ++i) pace.observe(false);
  EXPECT_EQ(pace.weight(), 1u);  // not yet
  pace.observe(false);
  EXPECT_EQ(pace.weight(), SamplingPace::kIdleFactor);
  pace.observe(false);
  EXPECT_EQ(pace.weight(), SamplingPace::kIdleFactor);
  pace.observe(true);
  EXPECT_EQ(pace.weight(), 1u);
  pace.observe(false);  // one quiet reading after a hand-over is not quiet enough
  EXPECT_EQ(pace.weight(), 1u);
}

TEST(GilSamplerTest, UnsupportedReaderNeverStartsAThread) {
  GilSampler s(&unsupported_reader);
  EXPECT_FALSE(s.supported());
  s.ensure_started();
  EXPECT_EQ(s.totals().samples, 0u);
}

TEST(GilSamplerTest, ThreadSamplesUntilStopped) {
  g_fake = {true, 0x1, 1};
  GilSampler s(&fake_reader, std::chrono::microseconds(200));
  s.ensure_started();
  while (s.totals().samples < 10) std::this_thread::yield();
  s.stop();
  GilTotals t = s.totals();
  EXPECT_EQ(t.samples, t.held_samples);
}

TEST(GilSamplerTest, WaitSamplingOffWithoutWaitObjects) {
  g_fake = {true, 0x1, 1};  // a reader that does not know where the GIL's waiters sleep
  GilSampler s(&fake_reader);
  EXPECT_TRUE(s.supported());
  EXPECT_FALSE(s.wait_supported());
  EXPECT_NE(s.wait_unsupported_reason(), nullptr);
  s.set_thread_map({{0x1, 1}});
  s.sample_wait_once(0);
  EXPECT_EQ(s.totals().wait.ticks, 0u);
}

// A stand-in GIL: threads "wait for it" in pthread_cond_wait, like take_gil.
struct FakeGil {
  pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
  bool released = false;
};
FakeGil g_gil;

GilSnapshot fake_with_objects(bool locked, uintptr_t holder) {
  GilSnapshot s;
  s.locked = locked;
  s.holder = holder;
  auto range = [](const void* p, size_t n) {
    auto b = reinterpret_cast<uintptr_t>(p);
    return AddressRange{b, b + n};
  };
  s.wait_objects = {range(&g_gil.cond, sizeof(g_gil.cond)),
                    range(&g_gil.mutex, sizeof(g_gil.mutex)), AddressRange{}, AddressRange{}};
  return s;
}

uint64_t waiting_ticks(const GilTotals& t, uint64_t tid) {
  for (const auto& [id, c] : t.wait.by_thread) {
    if (id == tid) return c.second;
  }
  return 0;
}

TEST(GilSamplerTest, WaitSamplingSeesTheBlockedThreadNotTheSleeperNorTheHolder) {
  g_fake = fake_with_objects(true, 0xA);
  GilSampler s(&fake_reader);
  ASSERT_TRUE(s.wait_supported()) << s.wait_unsupported_reason();
  std::atomic<uint64_t> waiter{0}, sleeper{0};
  std::atomic<bool> stop{false};
  std::thread w([&] {
    waiter = static_cast<uint64_t>(::syscall(SYS_gettid));
    pthread_mutex_lock(&g_gil.mutex);
    while (!g_gil.released) pthread_cond_wait(&g_gil.cond, &g_gil.mutex);
    pthread_mutex_unlock(&g_gil.mutex);
  });
  std::thread z([&] {
    sleeper = static_cast<uint64_t>(::syscall(SYS_gettid));
    while (!stop) ::usleep(20000);
  });
  while (waiter == 0 || sleeper == 0) std::this_thread::yield();
  const uint64_t holder = static_cast<uint64_t>(::syscall(SYS_gettid));
  s.set_thread_map({{0xA, holder}, {0xB, waiter}, {0xC, sleeper}});
  // A first tick with the GIL free sees nobody waiting, so the waiter's wait
  // has a known start. Then tick until it has been seen blocked 20 times (it
  // may not be asleep at the first ticks); bounded by a tick count, not time.
  int64_t now = 0;
  g_fake = fake_with_objects(false, 0xA);
  s.sample_wait_once(now);
  g_fake = fake_with_objects(true, 0xA);
  for (int i = 0; i < 100000 && waiting_ticks(s.totals(), waiter) < 20; ++i) {
    s.sample_wait_once(now += 2'000'000);
  }
  GilTotals t = s.totals();
  EXPECT_GE(waiting_ticks(t, waiter), 20u);
  EXPECT_EQ(waiting_ticks(t, sleeper), 0u);
  EXPECT_EQ(waiting_ticks(t, holder), 0u);  // the holder is never read
  EXPECT_EQ(t.wait_read_errors, 0u);

  // GIL free: nobody is counted as waiting (and no file is read).
  g_fake = fake_with_objects(false, 0xA);
  uint64_t before = waiting_ticks(s.totals(), waiter);
  for (int i = 0; i < 5; ++i) s.sample_wait_once(now += 2'000'000);
  EXPECT_EQ(waiting_ticks(s.totals(), waiter), before);
  // The waiter's episode ended at the first free tick: one wait recorded.
  common::ExpHistogram episodes = s.take_wait_episodes();
  EXPECT_GE(episodes.count(), 1u);
  EXPECT_GT(episodes.sum(), 0.0);

  pthread_mutex_lock(&g_gil.mutex);
  g_gil.released = true;
  pthread_cond_broadcast(&g_gil.cond);
  pthread_mutex_unlock(&g_gil.mutex);
  w.join();
  stop = true;
  z.join();
}

}  // namespace
}  // namespace pyrometer::agent
