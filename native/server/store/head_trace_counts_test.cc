// TraceSpanCounts: the per-trace span limit, its two-generation bound, and a
// trace's count carried between heads that share one table.
#include "server/store/head_trace_counts.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>

#include "server/store/head.h"
#include "server/store/store_test_util.h"

namespace pyrometer::server::store {
namespace {

using Verdict = TraceSpanCounts::Verdict;
constexpr uint64_t kT0 = 1'700'000'000'000'000'000ull;

std::string id16(uint64_t n) {
  std::string s(16, '\0');
  std::memcpy(s.data() + 8, &n, 8);
  s[0] = 1;  // never the all-zero id
  return s;
}

TEST(TraceSpanCounts, AcceptsUpToTheLimitThenTruncatesOnce) {
  TraceSpanCounts c(3, 64 << 10);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(c.add_span(id16(1)), Verdict::kAccept);
  EXPECT_EQ(c.add_span(id16(1)), Verdict::kTruncateFirst);
  EXPECT_EQ(c.add_span(id16(1)), Verdict::kDrop);
  EXPECT_EQ(c.add_span(id16(1)), Verdict::kDrop);
  // Other traces are unaffected, the all-zero id included.
  EXPECT_EQ(c.add_span(id16(2)), Verdict::kAccept);
  EXPECT_EQ(c.add_span(std::string(16, '\0')), Verdict::kAccept);
}

TEST(TraceSpanCounts, MemoryIsFixedAndRecentTracesSurviveGenerations) {
  TraceSpanCounts c(5, 64 << 10);
  size_t bytes = c.bytes();
  EXPECT_LE(bytes, size_t{64} << 10);
  size_t gen = c.generation_traces();
  ASSERT_GE(gen, 32u);
  // A runaway trace keeps arriving between many other traces: it stays
  // remembered (copied forward each generation) and stays truncated.
  for (int i = 0; i < 5; ++i) ASSERT_EQ(c.add_span(id16(7)), Verdict::kAccept);
  ASSERT_EQ(c.add_span(id16(7)), Verdict::kTruncateFirst);
  for (uint64_t n = 1000; n < 1000 + 10 * gen; ++n) {
    ASSERT_EQ(c.add_span(id16(n)), Verdict::kAccept);
    if (n % (gen / 4) == 0) {
      ASSERT_EQ(c.add_span(id16(7)), Verdict::kDrop);
    }
  }
  EXPECT_EQ(c.bytes(), bytes);
  // A trace unseen for more than two generations is forgotten: it counts anew.
  TraceSpanCounts d(1, 64 << 10);
  ASSERT_EQ(d.add_span(id16(9)), Verdict::kAccept);
  ASSERT_EQ(d.add_span(id16(9)), Verdict::kTruncateFirst);
  for (uint64_t n = 1000; n < 1000 + 3 * d.generation_traces(); ++n) d.add_span(id16(n));
  EXPECT_EQ(d.add_span(id16(9)), Verdict::kAccept);
}

TEST(TraceSpanCounts, LimitHoldsAcrossHeadsSharingTheTable) {
  auto counts = std::make_shared<TraceSpanCounts>(20, 1 << 20);
  common::otlp::TracesRequest a, b;
  testing::web_traces(&a, 42, 1, 15, kT0);
  testing::web_traces(&b, 42, 1, 15, kT0 + 1000);
  Head first(counts);
  HeadInsertResult r1 = first.insert_traces(a);
  EXPECT_EQ(r1.accepted, 15);
  EXPECT_EQ(r1.dropped, 0);
  Head second(counts);  // as after a head cut
  HeadInsertResult r2 = second.insert_traces(b);
  EXPECT_EQ(r2.accepted, 5);
  EXPECT_EQ(r2.dropped, 10);
  EXPECT_EQ(r2.newly_truncated, 1);
  std::vector<SpanRow> rows;
  second.find_trace(testing::trace_id(42), &rows);
  EXPECT_EQ(rows.size(), 6u);  // 5 spans + the marker
}

}  // namespace
}  // namespace pyrometer::server::store
