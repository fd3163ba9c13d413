// Tests for since/until/step parsing: RFC 3339 forms, relative times, errors.
#include "server/query/time_range.h"

#include <gtest/gtest.h>

namespace pyrometer::server::query {
namespace {

constexpr uint64_t kNow = 1764028800ull * kNanosPerSecond;  // 2025-11-25T00:00:00Z

TEST(TimeRange, ParsesRfc3339WithFractionAndOffset) {
  uint64_t t = 0;
  ASSERT_TRUE(parse_time_point("2025-11-25T00:00:00Z", kNow, &t).ok());
  EXPECT_EQ(t, kNow);
  ASSERT_TRUE(parse_time_point("2025-11-25T01:00:00.5+01:00", kNow, &t).ok());
  EXPECT_EQ(t, kNow + kNanosPerSecond / 2);
  ASSERT_TRUE(parse_time_point("2025-11-24T23:00:00.000000001-01:00", kNow, &t).ok());
  EXPECT_EQ(t, kNow + 1);
  EXPECT_EQ(format_rfc3339(kNow + kNanosPerSecond / 4), "2025-11-25T00:00:00.25Z");
}

TEST(TimeRange, ParsesRelativeAndNow) {
  uint64_t t = 0;
  ASSERT_TRUE(parse_time_point("now", kNow, &t).ok());
  EXPECT_EQ(t, kNow);
  ASSERT_TRUE(parse_time_point("-15m", kNow, &t).ok());
  EXPECT_EQ(t, kNow - 15 * 60 * kNanosPerSecond);
  ASSERT_TRUE(parse_time_point("-1.5h", kNow, &t).ok());
  EXPECT_EQ(t, kNow - 5400 * kNanosPerSecond);
}

TEST(TimeRange, RejectsGarbageWithTheInputInTheMessage) {
  uint64_t t = 0;
  for (const char* bad : {"yesterday", "-1x", "2025-13-01T00:00:00Z", "2025-11-25T00:00:00", "-",
                          "2025-11-25T00:00:00Zjunk"}) {
    common::Status st = parse_time_point(bad, kNow, &t);
    EXPECT_FALSE(st.ok()) << bad;
    EXPECT_NE(st.message().find(bad), std::string::npos) << st.message();
  }
}

TEST(TimeRange, DefaultsToTheLastHourAndChecksOrder) {
  http::Request rq;
  TimeRange r;
  ASSERT_TRUE(parse_time_range(rq, kNow, &r).ok());
  EXPECT_EQ(r.end_unix_nano, kNow);
  EXPECT_EQ(r.start_unix_nano, kNow - kDefaultRangeNanos);
  rq.query = "since=-1h&until=-2h";
  common::Status st = parse_time_range(rq, kNow, &r);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("must be before"), std::string::npos);
  rq.query = "since=bogus";
  st = parse_time_range(rq, kNow, &r);
  EXPECT_EQ(st.message().rfind("since:", 0), 0u) << st.message();
}

TEST(TimeRange, Durations) {
  uint64_t d = 0;
  ASSERT_TRUE(parse_duration("250ms", &d).ok());
  EXPECT_EQ(d, 250 * 1000 * 1000ull);
  ASSERT_TRUE(parse_duration("7d", &d).ok());
  EXPECT_EQ(d, 7 * 86400 * kNanosPerSecond);
  EXPECT_FALSE(parse_duration("5", &d).ok());
  EXPECT_FALSE(parse_duration("m", &d).ok());
  EXPECT_FALSE(parse_duration("1e3s", &d).ok());
}

}  // namespace
}  // namespace pyrometer::server::query
