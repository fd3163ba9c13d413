// Tests for TraceId/SpanId: hex round trips, validity, random generation.
#include "common/trace_id.h"

#include <gtest/gtest.h>

#include <set>

namespace pyrometer::common {
namespace {

TEST(TraceIdTest, DefaultIsInvalidZero) {
  EXPECT_FALSE(TraceId().is_valid());
  EXPECT_FALSE(SpanId().is_valid());
  EXPECT_EQ(TraceId().to_hex(), std::string(32, '0'));
}

TEST(TraceIdTest, HexRoundTrip) {
  auto id = TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736");
  ASSERT_TRUE(id);
  EXPECT_TRUE(id->is_valid());
  EXPECT_EQ(id->to_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(id->bytes()[0], 0x4b);
  EXPECT_EQ(id->bytes()[15], 0x36);
  EXPECT_EQ(id->word(0), 0x4bf92f3577b34da6ull);
  EXPECT_EQ(id->word(1), 0xa3ce929d0e0e4736ull);
  // Upper case is accepted by the generic parser and printed lower.
  auto up = TraceId::from_hex("4BF92F3577B34DA6A3CE929D0E0E4736");
  ASSERT_TRUE(up);
  EXPECT_EQ(*up, *id);
}

TEST(TraceIdTest, FromHexRejectsBadInput) {
  EXPECT_FALSE(TraceId::from_hex(""));
  EXPECT_FALSE(TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e473"));    // 31
  EXPECT_FALSE(TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e47361"));  // 33
  EXPECT_FALSE(TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e473g"));
  EXPECT_FALSE(SpanId::from_hex("00f067aa0ba902b "));
  EXPECT_TRUE(SpanId::from_hex("00f067aa0ba902b7"));
}

TEST(TraceIdTest, BytesRoundTrip) {
  auto id = SpanId::from_hex("00f067aa0ba902b7");
  ASSERT_TRUE(id);
  auto again = SpanId::from_bytes(id->as_string_view());
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *id);
  EXPECT_EQ(id->value(), 0x00f067aa0ba902b7ull);
  EXPECT_EQ(SpanId::from_value(0x00f067aa0ba902b7ull), *id);
  EXPECT_FALSE(SpanId::from_bytes("short"));
  EXPECT_FALSE(TraceId::from_bytes(std::string(17, 'x')));
}

TEST(TraceIdTest, RandomIdsAreValidAndDistinct) {
  std::set<TraceId> traces;
  std::set<SpanId> spans;
  for (int i = 0; i < 10000; ++i) {
    TraceId t = TraceId::random();
    SpanId s = SpanId::random();
    ASSERT_TRUE(t.is_valid());
    ASSERT_TRUE(s.is_valid());
    traces.insert(t);
    spans.insert(s);
  }
  EXPECT_EQ(traces.size(), 10000u);
  EXPECT_EQ(spans.size(), 10000u);
}

TEST(TraceIdTest, WriteHexWritesExactlyTwoNChars) {
  auto id = SpanId::from_hex("0123456789abcdef");
  ASSERT_TRUE(id);
  char buf[18];
  buf[16] = '#';
  buf[17] = '#';
  id->write_hex(buf);
  EXPECT_EQ(std::string_view(buf, 16), "0123456789abcdef");
  EXPECT_EQ(buf[16], '#');
}

}  // namespace
}  // namespace pyrometer::common
