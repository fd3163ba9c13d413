// EmbeddedStore tests: every signal through append → head → block → read,
// filters, the span limit, the memory bound, find_trace across blocks, concurrency.
#include "server/store/embedded/store_fixture.h"

namespace pyrometer::server::store::testing {
namespace {

// Every field of a rich span survives head and block.
TEST_F(EmbeddedStoreTest, RichSpansRoundTripThroughHeadAndBlock) {
  open();
  otlp::TracesRequest req;
  common::otlp::testing::fill_rich_traces(&req);
  AppendResult r;
  ASSERT_TRUE(store_->append_traces(encode(req), req, &r).ok());
  ASSERT_GT(r.accepted, 0);
  std::string tid(common::otlp::testing::kTraceId);
  std::vector<SpanRow> head_rows;
  ASSERT_TRUE(store_->find_trace(tid, &head_rows).ok());
  ASSERT_EQ(head_rows.size(), static_cast<size_t>(r.accepted));
  const SpanRow& s = head_rows[0];
  EXPECT_EQ(s.span_id, std::string(common::otlp::testing::kSpanId));
  EXPECT_FALSE(s.attributes.empty());
  EXPECT_FALSE(s.resource_attributes.empty());
  ASSERT_TRUE(store_->cut_head().ok());
  EXPECT_EQ(store_->block_count(), 1u);
  std::vector<SpanRow> block_rows;
  ASSERT_TRUE(store_->find_trace(tid, &block_rows).ok());
  auto order = [](const SpanRow& a, const SpanRow& b) { return a.span_id < b.span_id; };
  std::sort(head_rows.begin(), head_rows.end(), order);
  std::sort(block_rows.begin(), block_rows.end(), order);
  EXPECT_EQ(block_rows, head_rows);
}

TEST_F(EmbeddedStoreTest, MetricsLogsAndProfilesRoundTrip) {
  open();
  otlp::MetricsRequest m;
  common::otlp::testing::fill_rich_metrics(&m);
  otlp::LogsRequest l;
  common::otlp::testing::fill_rich_logs(&l);
  AppendResult r;
  ASSERT_TRUE(store_->append_metrics(encode(m), m, &r).ok());
  ASSERT_TRUE(store_->append_logs(encode(l), l, &r).ok());
  std::string pprof;
  common::pprof::encode_profile(common::pprof::testing::rich_profile(), &pprof);
  ProfileLabels labels{"shop", "web-1", "/users/{id}", "cpu", kT0 + 5};
  ASSERT_TRUE(store_->append_profile(pprof, labels, &r).ok());
  ASSERT_TRUE(store_->append_profile(pprof, labels, &r).ok());

  auto snapshot = [&] {
    std::vector<MetricPointRow> points;
    std::vector<LogRow> logs;
    std::vector<ProfileRow> profiles;
    EXPECT_TRUE(store_
                    ->scan_metric_points(
                        {}, [&](const MetricPointRow& p) { return points.push_back(p), true; })
                    .ok());
    EXPECT_TRUE(
        store_->scan_logs({}, [&](const LogRow& x) { return logs.push_back(x), true; }).ok());
    EXPECT_TRUE(store_->read_profiles({}, &profiles).ok());
    return std::make_tuple(points, logs, profiles);
  };
  auto [p1, l1, pr1] = snapshot();
  EXPECT_FALSE(p1.empty());
  EXPECT_FALSE(l1.empty());
  ASSERT_EQ(pr1.size(), 1u);
  EXPECT_EQ(pr1[0].uploads, 2);
  EXPECT_EQ(pr1[0].value_types, (std::vector<std::string>{"samples/count", "cpu/nanoseconds"}));
  // Two uploads merged: values doubled; stacks root first with inlined frames.
  bool found = false;
  for (const auto& s : pr1[0].samples) {
    if (s.frames == std::vector<std::string>{"handle_request app/views.py:22",
                                             "handle_request app/views.py:40",
                                             "query_db app/db.py:12"}) {
      found = true;
      EXPECT_EQ(s.values, (std::vector<int64_t>{6, 60'000'000}));
    }
  }
  EXPECT_TRUE(found);

  ASSERT_TRUE(store_->cut_head().ok());
  auto [p2, l2, pr2] = snapshot();
  auto by_time = [](auto& v) {
    std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
      return std::tie(a.time_unix_nano) < std::tie(b.time_unix_nano);
    });
  };
  auto by_name = [](std::vector<MetricPointRow>& v) {
    std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
      return std::tie(a.name, a.time_unix_nano) < std::tie(b.name, b.time_unix_nano);
    });
  };
  by_name(p1);
  by_name(p2);
  by_time(l1);
  by_time(l2);
  EXPECT_EQ(p2, p1);
  EXPECT_EQ(l2, l1);
  ASSERT_EQ(pr2.size(), 1u);
  EXPECT_EQ(pr2[0].samples, pr1[0].samples);
  EXPECT_EQ(pr2[0].uploads, 2);
}

TEST_F(EmbeddedStoreTest, FindTraceAcrossManyBlocks) {
  open();
  // The same trace gets spans in 12 different blocks, among other traces.
  for (int b = 0; b < 12; ++b) {
    append_traces(1000 + static_cast<uint64_t>(b) * 50, 40, 3,
                  kT0 + static_cast<uint64_t>(b) * 1'000'000'000);
    otlp::TracesRequest req;
    web_traces(&req, 7, 1, 2, kT0 + static_cast<uint64_t>(b));
    AppendResult r;
    ASSERT_TRUE(store_->append_traces(encode(req), req, &r).ok());
    ASSERT_TRUE(store_->cut_head().ok());
  }
  EXPECT_EQ(store_->block_count(), 12u);
  EXPECT_EQ(trace(7).size(), 24u);
  EXPECT_EQ(trace(1000 + 5 * 50 + 3).size(), 3u);
  EXPECT_TRUE(trace(999999).empty());
}

TEST_F(EmbeddedStoreTest, MemoryBoundRefusesWithUnavailable) {
  opts_.max_memory_bytes = 2 << 20;
  open();
  Status last;
  int accepted = 0;
  for (int i = 0; i < 1000 && last.ok(); ++i) {
    otlp::TracesRequest req;
    web_traces(&req, static_cast<uint64_t>(i) * 100, 50, 5, kT0);
    AppendResult r;
    last = store_->append_traces(encode(req), req, &r);
    if (last.ok()) ++accepted;
  }
  EXPECT_EQ(last.code(), Status::Code::kUnavailable) << last.to_string();
  EXPECT_GT(accepted, 0);
  EXPECT_EQ(store_->stats().refused[0], 1);
  EXPECT_LE(static_cast<uint64_t>(store_->stats().head_bytes), opts_.max_memory_bytes);
  // Cutting the head frees memory: appends are accepted again.
  ASSERT_TRUE(store_->cut_head().ok());
  append_traces(999999, 1, 1);
}

TEST_F(EmbeddedStoreTest, SpanLimitPerTraceDropsAndMarks) {
  opts_.max_spans_per_trace = 20;
  open();
  otlp::TracesRequest req;
  web_traces(&req, 42, 1, 35, kT0);
  AppendResult r;
  ASSERT_TRUE(store_->append_traces(encode(req), req, &r).ok());
  EXPECT_EQ(r.accepted, 20);
  EXPECT_EQ(r.rejected, 15);
  EXPECT_NE(r.reject_reason.find("spans"), std::string::npos);
  auto check = [&] {
    auto rows = trace(42);
    ASSERT_EQ(rows.size(), 21u);  // 20 spans + the marker row
    int markers = 0;
    for (const auto& s : rows) {
      for (const auto& a : s.attributes) {
        if (a.key == "pyrometer.truncated" && a.value.type == AttrValue::Type::kBool &&
            a.value.i == 1)
          ++markers;
      }
    }
    EXPECT_EQ(markers, 1);
  };
  check();
  ASSERT_TRUE(store_->cut_head().ok());
  check();
  EXPECT_EQ(store_->stats().dropped[0], 15);
  EXPECT_EQ(store_->stats().truncated_traces, 1);
}

// Regression: the limit was counted per head, so a trace whose spans arrived
// on both sides of a head cut could exceed it.
TEST_F(EmbeddedStoreTest, SpanLimitPerTraceHoldsAcrossHeadCuts) {
  opts_.max_spans_per_trace = 20;
  open();
  auto send = [&](uint64_t t0) {
    otlp::TracesRequest req;
    web_traces(&req, 42, 1, 15, t0);
    AppendResult r;
    EXPECT_TRUE(store_->append_traces(encode(req), req, &r).ok());
    return r;
  };
  AppendResult first = send(kT0);
  EXPECT_EQ(first.accepted, 15);
  ASSERT_TRUE(store_->cut_head().ok());
  AppendResult second = send(kT0 + 1'000'000'000);
  EXPECT_EQ(second.accepted, 5);
  EXPECT_EQ(second.rejected, 10);
  ASSERT_TRUE(store_->cut_head().ok());
  AppendResult third = send(kT0 + 2'000'000'000);
  EXPECT_EQ(third.accepted, 0);
  EXPECT_EQ(third.rejected, 15);
  auto rows = trace(42);
  EXPECT_EQ(rows.size(), 21u);  // 20 spans in two blocks + one marker
  int markers = 0;
  for (const auto& s : rows) markers += s.name == "pyrometer.truncated" ? 1 : 0;
  EXPECT_EQ(markers, 1);
  EXPECT_EQ(store_->stats().truncated_traces, 1);
  EXPECT_EQ(store_->stats().dropped[0], 25);
}

TEST_F(EmbeddedStoreTest, ScanFiltersByServiceNameRouteAndTime) {
  open();
  append_traces(1, 100, 3);
  ASSERT_TRUE(store_->cut_head().ok());
  append_traces(500, 100, 3);
  SpanFilter f;
  f.service = "nope";
  EXPECT_EQ(count_spans(f), 0u);
  f.service = "shop";
  EXPECT_EQ(count_spans(f), 600u);
  f.name = "SELECT shop.users";
  size_t cache = count_spans(f);
  EXPECT_EQ(cache, 400u);  // 2 of the 3 spans of each trace
  SpanFilter g;
  g.route = "/orders";
  size_t orders = count_spans(g);
  EXPECT_GT(orders, 0u);
  EXPECT_LT(orders, 200u);
  SpanFilter h;
  h.start_unix_nano = kT0 + 50'000'000;
  h.end_unix_nano = kT0 + 60'000'000;
  size_t window = count_spans(h);
  EXPECT_GT(window, 0u);
  EXPECT_LT(window, 600u);
}

TEST_F(EmbeddedStoreTest, MaintenanceCutsHeadWhenBlockDurationPassed) {
  opts_.block_duration = std::chrono::minutes(10);
  open();
  append_traces(1, 5, 2);
  ASSERT_TRUE(store_->run_maintenance().ok());
  EXPECT_EQ(store_->block_count(), 0u);
  clock_.advance(11ull * 60 * 1'000'000'000);
  ASSERT_TRUE(store_->run_maintenance().ok());
  EXPECT_EQ(store_->block_count(), 1u);
  EXPECT_EQ(store_->stats().head_spans, 0);
  // The head's WAL segments are gone once the block is durable.
  auto segs = wal_list_segments(opts_.data_dir + "/wal");
  ASSERT_EQ(segs.size(), 1u);
  EXPECT_EQ(trace(1).size(), 2u);
}

TEST_F(EmbeddedStoreTest, ConcurrentAppendsCutsAndReadsLoseNothing) {
  opts_.compact_max_spans = 100'000;
  open();
  constexpr int kWriters = 4, kRequests = 40, kTraces = 10, kSpans = 3;
  std::atomic<bool> done{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kRequests; ++i) {
        otlp::TracesRequest req;
        web_traces(&req, static_cast<uint64_t>(w * kRequests + i) * kTraces, kTraces, kSpans, kT0);
        AppendResult r;
        EXPECT_TRUE(store_->append_traces(encode(req), req, &r).ok());
      }
    });
  }
  std::thread maint([&] {
    while (!done) {
      EXPECT_TRUE(store_->cut_head().ok());
      EXPECT_TRUE(store_->compact().ok());
    }
  });
  std::thread reader([&] {
    uint64_t n = 0;
    while (!done) {
      std::vector<SpanRow> rows;
      EXPECT_TRUE(store_->find_trace(trace_id(n++ % (kWriters * kRequests * kTraces)), &rows).ok());
      EXPECT_TRUE(rows.empty() || rows.size() == static_cast<size_t>(kSpans)) << rows.size();
    }
  });
  for (auto& t : writers) t.join();
  done = true;
  maint.join();
  reader.join();
  EXPECT_EQ(count_spans(), static_cast<size_t>(kWriters * kRequests * kTraces * kSpans));
  for (uint64_t t = 0; t < kWriters * kRequests * kTraces; t += 37)
    EXPECT_EQ(trace(t).size(), 3u) << t;
  EXPECT_EQ(store_->stats().block_crc_failures, 0);
}

}  // namespace
}  // namespace pyrometer::server::store::testing
