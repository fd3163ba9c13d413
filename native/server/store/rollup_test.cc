// Rollup tests: the span/metric source rule, status classes, histogram merge.
#include "server/store/rollup.h"

#include <gtest/gtest.h>

#include "server/store/store_test_util.h"

namespace pyrometer::server::store {
namespace {

namespace otlp = common::otlp;
using testing::kv;

constexpr uint64_t kT0 = 1'700'000'040'000'000'000ull;  // on a minute boundary

std::vector<RollupRow> rows_of(const RollupSet& set) {
  std::vector<RollupRow> out;
  set.visit({}, [&](const RollupRow& r) { return out.push_back(r), true; });
  return out;
}

uint64_t hist_total(const RollupHistogram& h) {
  uint64_t n = h.zero_count;
  for (auto c : h.counts) n += c;
  return n;
}

TEST(RollupTest, SpansOfOtelServicesAreCountedPerRouteAndStatusClass) {
  otlp::TracesRequest req;
  testing::web_traces(&req, 1, 200, 1, kT0);  // root spans only, 200 requests in 0.2 s
  RollupSet set;
  set.add_traces(req);
  uint64_t count = 0, errors = 0;
  for (const auto& r : rows_of(set)) {
    EXPECT_EQ(r.minute_unix_nano, kT0);
    EXPECT_EQ(r.service, "shop");
    EXPECT_EQ(r.span_kind, 2);
    EXPECT_TRUE(r.status_class == "2xx" || r.status_class == "5xx") << r.status_class;
    EXPECT_EQ(r.errors, r.status_class == "5xx" ? r.count : 0u);
    EXPECT_EQ(hist_total(r.duration_seconds), r.count);
    EXPECT_GE(r.duration_seconds.min, 0.002);
    EXPECT_LE(r.duration_seconds.max, 0.032);
    count += r.count;
    errors += r.errors;
  }
  EXPECT_EQ(count, 200u);
  EXPECT_LT(errors, 200u);
}

TEST(RollupTest, PyrometerResourcesUseMetricsNotSpans) {
  otlp::TracesRequest traces;
  testing::web_traces(&traces, 1, 10, 1, kT0);
  traces.resource_spans[0].resource = testing::resource(&traces.arena, "agent-app", "pyrometer");
  otlp::MetricsRequest metrics;
  auto* a = &metrics.arena;
  metrics.resource_metrics.emplace_back();
  auto& rm = metrics.resource_metrics.back();
  rm.resource = testing::resource(a, "agent-app", "pyrometer");
  rm.scope_metrics.emplace_back();
  auto add = [&](otlp::AggregationTemporality temp, uint64_t count, std::string_view cls) {
    otlp::Metric m;
    m.name = "http.server.request.duration";
    m.unit = "s";
    m.type = otlp::Metric::Type::kExponentialHistogram;
    m.temporality = temp;
    otlp::ExponentialHistogramDataPoint p;
    p.attributes.push_back(kv(a, "http.route", "/users/{id}"));
    p.attributes.push_back(kv(a, "status_class", cls));
    p.time_unix_nano = kT0 + 1000;
    p.count = count;
    p.has_sum = true;
    p.sum = 0.01 * static_cast<double>(count);
    p.scale = 5;
    p.positive.offset = -215;  // ~2^(-215/32) ≈ 0.0095 s
    p.positive.bucket_counts = {count};
    m.exp_histogram_points.push_back(p);
    rm.scope_metrics[0].metrics.push_back(std::move(m));
  };
  add(otlp::AggregationTemporality::kDelta, 40, "2xx");
  add(otlp::AggregationTemporality::kDelta, 3, "5xx");
  add(otlp::AggregationTemporality::kCumulative, 1000, "2xx");  // ignored
  RollupSet set;
  set.add_traces(traces);  // ignored: sampled spans of a Pyrometer agent
  set.add_metrics(metrics);
  auto rows = rows_of(set);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].status_class, "2xx");
  EXPECT_EQ(rows[0].count, 40u);
  EXPECT_EQ(rows[0].errors, 0u);
  EXPECT_EQ(rows[0].route, "/users/{id}");
  EXPECT_EQ(rows[0].span_kind, 2);
  EXPECT_EQ(rows[1].status_class, "5xx");
  EXPECT_EQ(rows[1].errors, 3u);
  EXPECT_EQ(rows[0].duration_seconds.scale, 5);
}

// Regression: the agent names non-HTTP operations with `pyrometer.operation`
// (docs/format/agent-metrics.md); the rollup read `operation` and lost them.
TEST(RollupTest, AgentSpanDurationKeepsItsOperation) {
  otlp::MetricsRequest metrics;
  auto* a = &metrics.arena;
  metrics.resource_metrics.emplace_back();
  auto& rm = metrics.resource_metrics.back();
  rm.resource = testing::resource(a, "worker", "pyrometer");
  rm.scope_metrics.emplace_back();
  otlp::Metric m;
  m.name = "pyrometer.span.duration";
  m.unit = "s";
  m.type = otlp::Metric::Type::kExponentialHistogram;
  m.temporality = otlp::AggregationTemporality::kDelta;
  otlp::ExponentialHistogramDataPoint p;
  p.attributes.push_back(kv(a, "pyrometer.operation", "tasks.send_email"));
  p.attributes.push_back(kv(a, "span.kind", "consumer"));
  p.attributes.push_back(kv(a, "status_class", "ok"));
  p.time_unix_nano = kT0 + 1000;
  p.count = 7;
  p.scale = 5;
  p.positive.offset = -215;
  p.positive.bucket_counts = {7};
  m.exp_histogram_points.push_back(p);
  rm.scope_metrics[0].metrics.push_back(std::move(m));
  RollupSet set;
  set.add_metrics(metrics);
  auto rows = rows_of(set);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].route, "tasks.send_email");
  EXPECT_EQ(rows[0].count, 7u);
}

TEST(RollupTest, HistogramMergeAcrossScalesKeepsCountsAndSerializes) {
  RollupHistogram a, b;
  for (int i = 1; i <= 1000; ++i) histogram_record(&a, i * 1e-4, 1);
  b.scale = 1;
  b.offset = -10;
  b.counts = {5, 0, 7};
  b.sum = 0.1;
  b.min = 0.001;
  b.max = 0.9;
  histogram_merge(&a, b);
  EXPECT_EQ(hist_total(a), 1012u);
  EXPECT_LE(a.scale, 1);
  EXPECT_LE(a.counts.size(), kRollupMaxBuckets);
  RollupSet set;
  RollupRow row;
  row.minute_unix_nano = kT0;
  row.service = "s";
  row.route = "/r";
  row.status_class = "2xx";
  row.count = 1012;
  row.duration_seconds = a;
  set.merge(row);
  std::string bytes;
  set.serialize(&bytes);
  RollupSet back;
  ASSERT_TRUE(back.parse(bytes).ok());
  EXPECT_EQ(rows_of(back), rows_of(set));
  RollupSet bad;
  EXPECT_FALSE(bad.parse(bytes.substr(0, bytes.size() / 2)).ok());
}

}  // namespace
}  // namespace pyrometer::server::store
