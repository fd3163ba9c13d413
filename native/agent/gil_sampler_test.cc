// GilSampler with a fake reader: held ratio, switch counting, holder → thread
// mapping, and "unsupported" when the reader says so.
#include "agent/gil_sampler.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace pyrometer::agent
