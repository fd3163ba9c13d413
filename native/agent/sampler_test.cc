// Tests for Sampler: OTEL_TRACES_SAMPLER parsing, ratio determinism by trace
// id (OTel TraceIdRatioBased compatible), and parent-based decisions.
#include "agent/sampler.h"

#include <gtest/gtest.h>

#include <cstring>

namespace pyrometer::agent {
namespace {

// A trace id whose low 64 bits (bytes 8..15, big-endian) are `low`.
void make_id(uint64_t low, uint8_t out[16]) {
  std::memset(out, 0xab, 8);
  for (int i = 15; i >= 8; --i) {
    out[i] = static_cast<uint8_t>(low);
    low >>= 8;
  }
}

TEST(SamplerTest, DefaultIsParentBasedAlwaysOn) {
  Sampler s;
  uint8_t id[16];
  make_id(42, id);
  EXPECT_EQ(s.name(), "parentbased_always_on");
  EXPECT_TRUE(s.should_sample(id, ParentState::kNone));
  EXPECT_TRUE(s.should_sample(id, ParentState::kRemoteSampled));
  EXPECT_FALSE(s.should_sample(id, ParentState::kRemoteNotSampled));
}

TEST(SamplerTest, ParsesEveryStandardName) {
  const char* names[] = {"always_on",
                         "always_off",
                         "traceidratio",
                         "parentbased_always_on",
                         "parentbased_always_off",
                         "parentbased_traceidratio"};
  for (const char* n : names) {
    Sampler s;
    ASSERT_TRUE(Sampler::parse(n, "0.5", &s).ok()) << n;
    EXPECT_EQ(s.name(), n);
  }
}

TEST(SamplerTest, UnknownNameFallsBackToDefaultWithError) {
  Sampler s = Sampler::always_off();
  common::Status st = Sampler::parse("sometimes", "", &s);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("OTEL_TRACES_SAMPLER"), std::string::npos);
  EXPECT_EQ(s.kind(), Sampler::Kind::kParentBasedAlwaysOn);
}

TEST(SamplerTest, BadRatioFallsBackToOneWithError) {
  Sampler s;
  for (const char* arg : {"1.5", "-0.1", "abc", "0.5x"}) {
    common::Status st = Sampler::parse("traceidratio", arg, &s);
    EXPECT_FALSE(st.ok()) << arg;
    EXPECT_NE(st.message().find("OTEL_TRACES_SAMPLER_ARG"), std::string::npos);
    EXPECT_DOUBLE_EQ(s.ratio(), 1.0);
  }
}

TEST(SamplerTest, AlwaysOffIgnoresParent) {
  Sampler s = Sampler::always_off();
  uint8_t id[16];
  make_id(0, id);
  EXPECT_FALSE(s.should_sample(id, ParentState::kNone));
  EXPECT_FALSE(s.should_sample(id, ParentState::kRemoteSampled));
}

TEST(SamplerTest, RatioComparesLow64BitsWithBound) {
  // ratio 0.5: bound = 2^63; low bits below are sampled, at or above are not.
  Sampler s = Sampler::ratio(0.5, false);
  uint8_t id[16];
  make_id((1ull << 63) - 1, id);
  EXPECT_TRUE(s.should_sample(id, ParentState::kNone));
  make_id(1ull << 63, id);
  EXPECT_FALSE(s.should_sample(id, ParentState::kNone));
  // The high 64 bits do not matter.
  make_id(5, id);
  std::memset(id, 0xff, 8);
  EXPECT_TRUE(s.should_sample(id, ParentState::kNone));
}

TEST(SamplerTest, RatioIsDeterministicAndNearTheRatio) {
  Sampler s = Sampler::ratio(0.25, false);
  int sampled = 0;
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (int i = 0; i < 20000; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    uint8_t id[16];
    make_id(x, id);
    const bool first = s.should_sample(id, ParentState::kNone);
    EXPECT_EQ(first, s.should_sample(id, ParentState::kNone));
    sampled += first;
  }
  EXPECT_GT(sampled, 20000 * 0.22);
  EXPECT_LT(sampled, 20000 * 0.28);
}

TEST(SamplerTest, RatioEdges) {
  uint8_t id[16];
  make_id(~0ull, id);
  EXPECT_TRUE(Sampler::ratio(1.0, false).should_sample(id, ParentState::kNone));
  make_id(0, id);
  EXPECT_FALSE(Sampler::ratio(0.0, false).should_sample(id, ParentState::kNone));
}

TEST(SamplerTest, ParentBasedRatioFollowsRemoteParentAndRatiosRoots) {
  Sampler s = Sampler::ratio(0.0, true);
  uint8_t id[16];
  make_id(0, id);
  EXPECT_TRUE(s.should_sample(id, ParentState::kRemoteSampled));
  EXPECT_FALSE(s.should_sample(id, ParentState::kRemoteNotSampled));
  EXPECT_FALSE(s.should_sample(id, ParentState::kNone));
}

TEST(SamplerTest, NonParentBasedIgnoresRemoteFlag) {
  Sampler s = Sampler::always_on();
  uint8_t id[16];
  make_id(0, id);
  EXPECT_TRUE(s.should_sample(id, ParentState::kRemoteNotSampled));
}

}  // namespace
}  // namespace pyrometer::agent
