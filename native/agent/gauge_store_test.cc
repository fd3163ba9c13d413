// GaugeStore: last value per (name, attributes), re-export until stale, the
// series limit with counted drops reported once, and name conflicts.
#include "agent/gauge_store.h"

#include <gtest/gtest.h>

#include <cmath>
#include <thread>

namespace pyrometer::agent {
namespace {

constexpr uint64_t kSec = 1'000'000'000;

struct Point {
  std::string name, unit;
  std::vector<std::pair<std::string, std::string>> attrs;  // key, rendered value
  bool is_int;
  int64_t i;
  double d;
  uint64_t time;
};

std::string render(const otlp::AnyValue& v) {
  switch (v.type) {
    case otlp::AnyValue::Type::kString:
      return "s:" + std::string(v.string_value);
    case otlp::AnyValue::Type::kInt:
      return "i:" + std::to_string(v.int_value);
    case otlp::AnyValue::Type::kDouble:
      return "d:" + std::to_string(v.double_value);
    case otlp::AnyValue::Type::kBool:
      return v.bool_value ? "b:true" : "b:false";
    default:
      return "?";
  }
}

std::vector<Point> collect(GaugeStore* g, uint64_t now) {
  ExportResource res{"svc", {}, "id"};
  otlp::MetricsRequest req;
  MetricsBuilder b(res, &req);
  g->collect(&b, 0, now);
  std::vector<Point> out;
  for (const auto& m : req.resource_metrics[0].scope_metrics[0].metrics) {
    EXPECT_EQ(m.type, otlp::Metric::Type::kGauge);
    for (const auto& p : m.number_points) {
      Point pt{std::string(m.name), std::string(m.unit), {}, p.is_int, p.as_int,
               p.as_double,         p.time_unix_nano};
      for (const auto& kv : p.attributes) pt.attrs.emplace_back(kv.key, render(kv.value));
      out.push_back(pt);
    }
  }
  return out;
}

TEST(GaugeStoreTest, KeepsTheLastValuePerSeriesWhateverTheAttributeOrder) {
  Diagnostics diag;
  GaugeStore g(10, 30 * kSec, &diag);
  EXPECT_EQ(
      g.record("queue.depth", GaugeValue::of_int(3),
               {{"q", std::string("a")}, {"system", std::string("celery")}}, "{message}", 1 * kSec),
      GaugeRecordResult::kRecorded);
  EXPECT_EQ(g.record("queue.depth", GaugeValue::of_int(7),
                     {{"system", std::string("celery")}, {"q", std::string("a")}}, "", 2 * kSec),
            GaugeRecordResult::kRecorded);
  g.record("queue.depth", GaugeValue::of_int(1), {{"q", std::string("b")}}, "", 2 * kSec);
  g.record("loop.tasks", GaugeValue::of_double(2.5), {}, "{task}", 2 * kSec);
  EXPECT_EQ(g.series(), 3u);

  std::vector<Point> pts = collect(&g, 5 * kSec);
  ASSERT_EQ(pts.size(), 3u);
  EXPECT_EQ(pts[0].name, "loop.tasks");
  EXPECT_FALSE(pts[0].is_int);
  EXPECT_EQ(pts[0].d, 2.5);
  EXPECT_EQ(pts[0].unit, "{task}");
  // Same name: one Metric, unit from the series that has one; attributes sorted by key.
  EXPECT_EQ(pts[1].name, "queue.depth");
  EXPECT_EQ(pts[1].unit, "{message}");
  EXPECT_EQ(pts[2].unit, "{message}");
  const Point& a = pts[1].attrs.size() == 2 ? pts[1] : pts[2];
  const Point& b = pts[1].attrs.size() == 2 ? pts[2] : pts[1];
  EXPECT_TRUE(a.is_int);
  EXPECT_EQ(a.i, 7);
  EXPECT_EQ(a.attrs, (std::vector<std::pair<std::string, std::string>>{{"q", "s:a"},
                                                                       {"system", "s:celery"}}));
  EXPECT_EQ(b.i, 1);
  for (const Point& p : pts) EXPECT_EQ(p.time, 5 * kSec);  // stamped at collection
  EXPECT_EQ(g.dropped(), 0u);
}

TEST(GaugeStoreTest, AttributeTypesMakeDistinctSeriesAndRepeatedKeysKeepTheLast) {
  GaugeStore g(10, 30 * kSec, nullptr);
  g.record("x", GaugeValue::of_int(1), {{"k", int64_t{1}}}, "", 1);
  g.record("x", GaugeValue::of_int(2), {{"k", 1.0}}, "", 1);
  g.record("x", GaugeValue::of_int(3), {{"k", std::string("1")}}, "", 1);
  g.record("x", GaugeValue::of_int(4), {{"k", true}}, "", 1);
  EXPECT_EQ(g.series(), 4u);
  g.record("y", GaugeValue::of_int(5), {{"k", std::string("a")}, {"k", std::string("b")}}, "", 1);
  g.record("y", GaugeValue::of_int(6), {{"k", std::string("b")}}, "", 1);
  EXPECT_EQ(g.series(), 5u);  // {"k": "b"} both times
  std::vector<Point> pts = collect(&g, 2);
  ASSERT_EQ(pts.size(), 5u);
  EXPECT_EQ(pts.back().name, "y");
  EXPECT_EQ(pts.back().i, 6);
}

TEST(GaugeStoreTest, ReExportsUntilStaleThenForgetsAndFreesTheSlot) {
  GaugeStore g(1, 30 * kSec, nullptr);
  g.record("depth", GaugeValue::of_int(4), {}, "", 100 * kSec);
  EXPECT_EQ(collect(&g, 110 * kSec).size(), 1u);
  EXPECT_EQ(collect(&g, 130 * kSec).size(), 1u);  // not updated, still live: last value again
  EXPECT_EQ(g.record("other", GaugeValue::of_int(1), {}, "", 130 * kSec),
            GaugeRecordResult::kSeriesLimit);
  EXPECT_EQ(collect(&g, 131 * kSec).size(), 0u);  // 31 s without an update: stale
  EXPECT_EQ(g.series(), 0u);
  EXPECT_EQ(g.record("other", GaugeValue::of_int(1), {}, "", 132 * kSec),
            GaugeRecordResult::kRecorded);
  EXPECT_EQ(g.dropped(), 1u);
}

TEST(GaugeStoreTest, SeriesLimitDropsAndCountsAndReportsOnce) {
  Diagnostics diag;
  GaugeStore g(3, 30 * kSec, &diag);
  for (int i = 0; i < 10; ++i) {
    g.record("tasks", GaugeValue::of_int(i), {{"loop", int64_t{i}}}, "", 1);
  }
  EXPECT_EQ(g.series(), 3u);
  EXPECT_EQ(g.dropped(), 7u);
  // Existing series still update at the limit.
  EXPECT_EQ(g.record("tasks", GaugeValue::of_int(42), {{"loop", int64_t{0}}}, "", 2),
            GaugeRecordResult::kRecorded);
  std::vector<std::string> msgs = diag.take_messages();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_NE(msgs[0].find("series limit"), std::string::npos);
  EXPECT_EQ(diag.error_count(), 7u);
}

TEST(GaugeStoreTest, RefusesInvalidReadings) {
  Diagnostics diag;
  GaugeStore g(10, 30 * kSec, &diag);
  EXPECT_EQ(g.record("", GaugeValue::of_int(1), {}, "", 1), GaugeRecordResult::kInvalid);
  EXPECT_EQ(g.record(std::string(300, 'n'), GaugeValue::of_int(1), {}, "", 1),
            GaugeRecordResult::kInvalid);
  EXPECT_EQ(g.record("x", GaugeValue::of_double(std::nan("")), {}, "", 1),
            GaugeRecordResult::kInvalid);
  EXPECT_EQ(
      g.record("x", GaugeValue::of_int(1), {{"k", std::vector<AttrScalar>{int64_t{1}}}}, "", 1),
      GaugeRecordResult::kInvalid);
  std::vector<Attribute> many;
  for (int i = 0; i < 17; ++i) many.push_back({"k" + std::to_string(i), int64_t{i}});
  EXPECT_EQ(g.record("x", GaugeValue::of_int(1), many, "", 1), GaugeRecordResult::kInvalid);
  EXPECT_EQ(g.record("x", GaugeValue::of_int(1), {{"big", std::string(5000, 'v')}}, "", 1),
            GaugeRecordResult::kInvalid);
  EXPECT_EQ(g.series(), 0u);
  EXPECT_EQ(g.dropped(), 6u);
  EXPECT_EQ(diag.take_messages().size(), 1u);  // one kind of problem, reported once
}

TEST(GaugeStoreTest, NameOfAnotherMetricTypeIsSkippedAndCounted) {
  Diagnostics diag;
  GaugeStore g(10, 30 * kSec, &diag);
  g.record("requests", GaugeValue::of_int(1), {}, "", 1);
  g.record("ok", GaugeValue::of_int(2), {}, "", 1);
  ExportResource res{"svc", {}, "id"};
  otlp::MetricsRequest req;
  MetricsBuilder b(res, &req);
  b.add_sum("requests", "1", "", 5, true, true, {}, 0, 1);  // another source got there first
  g.collect(&b, 0, 2);
  const auto& metrics = req.resource_metrics[0].scope_metrics[0].metrics;
  ASSERT_EQ(metrics.size(), 2u);
  EXPECT_EQ(metrics[0].number_points.size(), 1u);  // the sum's own point only
  EXPECT_EQ(metrics[1].name, "ok");
  EXPECT_EQ(g.dropped(), 1u);
  EXPECT_EQ(diag.take_messages().size(), 1u);
}

TEST(GaugeStoreTest, ConcurrentRecordersAndCollectorStayConsistent) {
  GaugeStore g(64, 30 * kSec, nullptr);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&g, t] {
      for (int i = 0; i < 20000; ++i) {
        g.record("depth", GaugeValue::of_int(i), {{"thread", int64_t{t}}}, "", 1);
      }
    });
  }
  size_t max_points = 0;
  for (int i = 0; i < 50; ++i) max_points = std::max(max_points, collect(&g, 2).size());
  for (auto& th : threads) th.join();
  EXPECT_LE(max_points, 4u);
  std::vector<Point> pts = collect(&g, 2);
  ASSERT_EQ(pts.size(), 4u);
  for (const Point& p : pts) EXPECT_EQ(p.i, 19999);
  EXPECT_EQ(g.dropped(), 0u);
}

TEST(GaugeStoreTest, ChildForgetsTheParentsSeries) {
  GaugeStore g(10, 30 * kSec, nullptr);
  g.record("depth", GaugeValue::of_int(1), {}, "", 1);
  g.lock_for_fork();
  g.reset_in_child();  // unlocks
  EXPECT_EQ(g.series(), 0u);
  EXPECT_EQ(g.record("depth", GaugeValue::of_int(2), {}, "", 1), GaugeRecordResult::kRecorded);
}

}  // namespace
}  // namespace pyrometer::agent
