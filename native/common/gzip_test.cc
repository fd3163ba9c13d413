// Tests for gzip / bounded gunzip: round trips, the output cap, multi-member
// streams, and corrupt or truncated input.
#include "common/gzip.h"

#include <gtest/gtest.h>

#include <random>

namespace pyrometer::common {
namespace {

std::string random_text(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>('a' + rng() % 8);
  return s;
}

TEST(Gzip, RoundTripsAtEveryLevel) {
  const std::string text = random_text(300'000, 1);
  for (int level : {-1, 0, 1, 6, 9, 42}) {
    std::string z;
    gzip(text, &z, level);
    EXPECT_TRUE(looks_gzipped(z));
    std::string back;
    ASSERT_TRUE(gunzip(z, text.size(), &back).ok()) << level;
    EXPECT_EQ(back, text);
  }
}

TEST(Gzip, EmptyPayloadRoundTrips) {
  std::string z;
  gzip("", &z);
  std::string back;
  ASSERT_TRUE(gunzip(z, 0, &back).ok());
  EXPECT_TRUE(back.empty());
}

TEST(Gzip, OutputCapGivesTooLarge) {
  const std::string zeros(10'000'000, '\0');
  std::string z;
  gzip(zeros, &z, 9);
  ASSERT_LT(z.size(), 20'000u);  // a bomb: tiny input, huge output
  std::string back;
  const Status st = gunzip(z, 1'000'000, &back);
  EXPECT_EQ(st.code(), Status::Code::kTooLarge);
  EXPECT_LE(back.size(), 1'000'000u);
  std::string exact;
  EXPECT_TRUE(gunzip(z, zeros.size(), &exact).ok());
}

TEST(Gzip, ConcatenatedMembersAreJoined) {
  std::string z;
  gzip("hello ", &z);
  gzip("world", &z);
  std::string back;
  ASSERT_TRUE(gunzip(z, 100, &back).ok());
  EXPECT_EQ(back, "hello world");
}

TEST(Gzip, TruncatedStreamIsRejected) {
  std::string z;
  gzip(random_text(10'000, 2), &z);
  for (size_t n : {size_t{1}, size_t{10}, z.size() / 2, z.size() - 1}) {
    std::string back;
    EXPECT_EQ(gunzip(std::string_view(z).substr(0, n), 1 << 20, &back).code(),
              Status::Code::kInvalidArgument)
        << n;
  }
}

TEST(Gzip, CorruptAndNonGzipInputIsRejected) {
  std::string back;
  EXPECT_EQ(gunzip("", 10, &back).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(gunzip("not gzip at all", 100, &back).code(), Status::Code::kInvalidArgument);
  std::string z;
  gzip(random_text(1000, 3), &z);
  z[z.size() - 3] ^= 0x55;  // breaks the CRC/length trailer
  EXPECT_EQ(gunzip(z, 1 << 20, &back).code(), Status::Code::kInvalidArgument);
}

TEST(Gzip, TrailingGarbageIsRejected) {
  std::string z;
  gzip("payload", &z);
  z += "xyz";
  std::string back;
  EXPECT_EQ(gunzip(z, 100, &back).code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace pyrometer::common
