// RedMetrics: key extraction per family, counts/errors, delta reset, the p99
// oracle, cardinality overflow and the OTLP points it produces.
#include "agent/red_metrics.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace pyrometer::agent {
namespace {

using common::otlp::SpanKind;
using common::otlp::StatusCode;

SpanRecord make_span(std::string name, SpanKind kind, std::vector<Attribute> attrs,
                     uint64_t duration_ns, StatusCode status = StatusCode::kUnset) {
  SpanRecord s;
  s.name = std::move(name);
  s.kind = kind;
  s.attributes = std::move(attrs);
  s.start_unix_nano = 1'000'000'000;
  s.end_unix_nano = s.start_unix_nano + duration_ns;
  s.status_code = status;
  return s;
}

std::string attr_str(const otlp::ExponentialHistogramDataPoint& p, std::string_view key) {
  for (const auto& kv : p.attributes) {
    if (kv.key == key) return std::string(kv.value.string_value);
  }
  return "";
}

TEST(RedMetricsTest, KeysPerFamily) {
  RedKey k;
  RedMetrics::key_of(
      make_span(
          "GET /u/1", SpanKind::kServer,
          {{"http.route", std::string("/u/{id}")}, {"http.response.status_code", int64_t{503}}}, 1),
      &k);
  EXPECT_EQ(k.family, RedFamily::kServer);
  EXPECT_EQ(k.name, "/u/{id}");
  EXPECT_EQ(k.status_class, "5xx");
  EXPECT_TRUE(k.error);

  RedMetrics::key_of(make_span("GET", SpanKind::kClient,
                               {{"server.address", std::string("api.example")},
                                {"http.response.status_code", int64_t{404}}},
                               1),
                     &k);
  EXPECT_EQ(k.family, RedFamily::kClient);
  EXPECT_EQ(k.name, "api.example");
  EXPECT_TRUE(k.error);  // a client's 4xx is an error

  RedKey a, b;
  RedMetrics::key_of(make_span("SELECT", SpanKind::kClient,
                               {{"db.system", std::string("postgresql")},
                                {"db.query.text", std::string("SELECT * FROM t WHERE id = 1")}},
                               1),
                     &a);
  RedMetrics::key_of(make_span("SELECT", SpanKind::kClient,
                               {{"db.system", std::string("postgresql")},
                                {"db.query.text", std::string("SELECT * FROM t WHERE id = 42")}},
                               1),
                     &b);
  EXPECT_EQ(a.family, RedFamily::kDb);
  EXPECT_EQ(a.name.size(), 16u);
  EXPECT_EQ(a.name, b.name);  // same statement shape, different literal
  EXPECT_EQ(a.db_summary, b.db_summary);
  EXPECT_NE(a.db_summary.find('?'), std::string::npos);
  EXPECT_EQ(a.status_class, "ok");

  RedMetrics::key_of(make_span("task", SpanKind::kInternal, {}, 1, StatusCode::kError), &k);
  EXPECT_EQ(k.family, RedFamily::kSpan);
  EXPECT_EQ(k.status_class, "error");
}

TEST(RedMetricsTest, CountsEveryEndedSpanAndResetsAfterCollect) {
  RedMetrics red;
  for (int i = 0; i < 1000; ++i) {
    red.on_span_end(make_span("GET /", SpanKind::kServer, {{"http.route", std::string("/")}},
                              1'000'000, i % 10 == 0 ? StatusCode::kError : StatusCode::kUnset));
  }
  ExportResource res{"svc", {}, "id"};
  otlp::MetricsRequest req;
  {
    MetricsBuilder b(res, &req);
    red.collect(&b, 1, 2);
  }
  const auto& metrics = req.resource_metrics[0].scope_metrics[0].metrics;
  uint64_t hist_count = 0;
  int64_t errors = 0;
  for (const auto& m : metrics) {
    if (m.name == "http.server.request.duration") {
      EXPECT_EQ(m.temporality, otlp::AggregationTemporality::kDelta);
      for (const auto& p : m.exp_histogram_points) {
        hist_count += p.count;
        EXPECT_EQ(attr_str(p, "http.route"), "/");
        EXPECT_EQ(p.start_time_unix_nano, 1u);
        EXPECT_EQ(p.time_unix_nano, 2u);
      }
    }
    if (m.name == "pyrometer.span.errors") {
      EXPECT_TRUE(m.is_monotonic);
      for (const auto& p : m.number_points) errors += p.as_int;
    }
  }
  EXPECT_EQ(hist_count, 1000u);
  EXPECT_EQ(errors, 100);

  otlp::MetricsRequest again;
  {
    MetricsBuilder b(res, &again);
    red.collect(&b, 2, 3);
    EXPECT_EQ(b.point_count(), 0u);  // delta: nothing new, nothing sent
  }
}

TEST(RedMetricsTest, P99OracleNeedsSamplesThenFlagsSlowRoots) {
  RedMetrics red;
  auto root = [](uint64_t ns) {
    return make_span("GET /p", SpanKind::kServer, {{"http.route", std::string("/p")}}, ns);
  };
  EXPECT_FALSE(red.above_p99(root(10'000'000'000)));  // unknown key
  for (int i = 0; i < 99; ++i) red.on_span_end(root(1'000'000));
  EXPECT_FALSE(red.above_p99(root(10'000'000'000)));  // 99 < 100 samples
  for (int i = 0; i < 200; ++i) red.on_span_end(root(1'000'000 + i * 1000));
  EXPECT_TRUE(red.above_p99(root(1'000'000'000)));
  EXPECT_FALSE(red.above_p99(root(500'000)));
}

TEST(RedMetricsTest, CardinalityOverflowFoldsIntoOther) {
  RedMetrics red(/*max_keys_per_family=*/5);
  for (int i = 0; i < 20; ++i) {
    red.on_span_end(make_span("op" + std::to_string(i), SpanKind::kInternal, {}, 1000));
  }
  EXPECT_EQ(red.overflowed(), 15u);
  ExportResource res{"svc", {}, "id"};
  otlp::MetricsRequest req;
  MetricsBuilder b(res, &req);
  red.collect(&b, 1, 2);
  bool saw_other = false;
  for (const auto& m : req.resource_metrics[0].scope_metrics[0].metrics) {
    if (m.name != "pyrometer.span.duration") continue;
    EXPECT_EQ(m.exp_histogram_points.size(), 6u);
    for (const auto& p : m.exp_histogram_points) {
      if (attr_str(p, "pyrometer.operation") == "__other__") {
        saw_other = true;
        EXPECT_EQ(p.count, 15u);
      }
    }
  }
  EXPECT_TRUE(saw_other);
}

TEST(RedMetricsTest, ResetInChildStartsFromZero) {
  RedMetrics red;
  red.on_span_end(make_span("x", SpanKind::kInternal, {}, 1000));
  red.lock_for_fork();
  red.reset_in_child();
  ExportResource res{"svc", {}, "id"};
  otlp::MetricsRequest req;
  MetricsBuilder b(res, &req);
  red.collect(&b, 1, 2);
  EXPECT_EQ(b.point_count(), 0u);
}

struct Totals {
  uint64_t spans = 0;
  int64_t errors = 0;
  size_t points = 0;
};

Totals collect_totals(RedMetrics& red) {
  ExportResource res{"svc", {}, "id"};
  otlp::MetricsRequest req;
  MetricsBuilder b(res, &req);
  red.collect(&b, 1, 2);
  Totals t;
  if (req.resource_metrics.empty()) return t;
  for (const auto& m : req.resource_metrics[0].scope_metrics[0].metrics) {
    for (const auto& p : m.exp_histogram_points) {
      t.spans += p.count;
      ++t.points;
    }
    if (m.name == "pyrometer.span.errors") {
      for (const auto& p : m.number_points) t.errors += p.as_int;
    }
  }
  return t;
}

SpanRecord numbered_span(int thread, int i) {
  // Two keys per thread plus one shared by all; every 7th span an error.
  std::string name = "shared";
  if (i % 3 != 0) {  // appended, not operator+: GCC 12 warns falsely on the latter (-Wrestrict)
    name = "t";
    name.append(std::to_string(thread)).append("-").append(std::to_string(i % 2));
  }
  return make_span(std::move(name), SpanKind::kInternal, {}, 1000 + i,
                   i % 7 == 0 ? StatusCode::kError : StatusCode::kUnset);
}

int64_t expected_errors(int per_thread) {
  int64_t n = 0;
  for (int i = 0; i < per_thread; ++i) n += i % 7 == 0;
  return n;
}

TEST(RedMetricsTest, MergedTotalsAcrossThreadsAreExact) {
  RedMetrics red;
  constexpr int kThreads = 6, kPerThread = 10007;  // not a multiple of kPublishEvery
  std::vector<std::thread> threads;
  std::atomic<int> ready{0};
  std::atomic<bool> finish{false};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) red.on_span_end(numbered_span(t, i));
      ready.fetch_add(1);
      while (!finish.load()) std::this_thread::yield();  // alive: pending spans still local
    });
  }
  while (ready.load() < kThreads) std::this_thread::yield();
  EXPECT_EQ(red.thread_count(), static_cast<size_t>(kThreads));
  Totals got = collect_totals(red);  // must take the living threads' unpublished spans
  EXPECT_EQ(got.spans, uint64_t{kThreads} * kPerThread);
  EXPECT_EQ(got.errors, kThreads * expected_errors(kPerThread));
  EXPECT_EQ(got.points, 2u * (1u + 2u * kThreads));  // each name as "ok" and as "error"
  finish.store(true);
  for (auto& th : threads) th.join();
  EXPECT_EQ(collect_totals(red).spans, 0u);  // delta: nothing twice
}

TEST(RedMetricsTest, ThreadExitPublishesItsSpans) {
  RedMetrics red;
  constexpr int kThreads = 4, kPerThread = 1001;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) red.on_span_end(numbered_span(t, i));
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(red.thread_count(), 0u);  // each exiting thread merged and left
  Totals got = collect_totals(red);
  EXPECT_EQ(got.spans, uint64_t{kThreads} * kPerThread);
  EXPECT_EQ(got.errors, kThreads * expected_errors(kPerThread));
}

TEST(RedMetricsTest, CollectRacingWithRecordingLosesAndDuplicatesNothing) {
  RedMetrics red;
  constexpr int kThreads = 4, kPerThread = 40000;
  std::atomic<bool> done{false};
  Totals sum;
  std::thread collector([&] {
    while (!done.load()) {
      Totals t = collect_totals(red);
      sum.spans += t.spans;
      sum.errors += t.errors;
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) red.on_span_end(numbered_span(t, i));
    });
  }
  for (auto& th : threads) th.join();
  done.store(true);
  collector.join();
  Totals last = collect_totals(red);
  EXPECT_EQ(sum.spans + last.spans, uint64_t{kThreads} * kPerThread);
  EXPECT_EQ(sum.errors + last.errors, kThreads * expected_errors(kPerThread));
}

TEST(RedMetricsTest, MoreKeysThanAThreadKeepsLocallyStillCountExactly) {
  RedMetrics red(/*max_keys_per_family=*/10000);
  const int keys = static_cast<int>(RedMetrics::kMaxLocalKeys) + 50;
  for (int round = 0; round < 3; ++round) {
    for (int k = 0; k < keys; ++k) {
      std::string name = "k";
      name.append(std::to_string(k));
      red.on_span_end(make_span(std::move(name), SpanKind::kInternal, {}, 1000));
    }
  }
  Totals got = collect_totals(red);
  EXPECT_EQ(got.spans, 3u * keys);
  EXPECT_EQ(got.points, static_cast<size_t>(keys));
}

TEST(RedMetricsTest, OwnersComeAndGoOnALivingThread) {
  for (int i = 0; i < 3; ++i) {
    RedMetrics red;
    for (int j = 0; j < 100; ++j) red.on_span_end(make_span("x", SpanKind::kInternal, {}, 1000));
    EXPECT_EQ(collect_totals(red).spans, 100u);
  }  // each destroyed while this thread still has a slot in it
}

TEST(RedMetricsTest, CarriedFingerprintIsUsedAndMatchesTheComputedOne) {
  RedKey computed, carried;
  RedMetrics::key_of(make_span("SELECT t", SpanKind::kClient,
                               {{"db.system", std::string("postgresql")},
                                {"db.query.text", std::string("SELECT a FROM t WHERE id = 7")}},
                               1),
                     &computed);
  RedMetrics::key_of(make_span("SELECT t", SpanKind::kClient,
                               {{"db.system", std::string("postgresql")},
                                {"db.query.text", std::string("SELECT a FROM t WHERE id = ?")},
                                {"db.query.fingerprint", computed.name}},
                               1),
                     &carried);
  EXPECT_EQ(carried.name, computed.name);
  EXPECT_EQ(carried.db_summary, computed.db_summary);

  RedKeyView v;  // a carried fingerprint is taken as is (no normalising per span)
  SpanRecord s = make_span("q", SpanKind::kClient,
                           {{"db.system", std::string("sqlite")},
                            {"db.query.text", std::string("SELECT 1")},
                            {"db.query.fingerprint", std::string("00000000000000ab")}},
                           1);
  RedMetrics::key_view_of(s, &v);
  EXPECT_EQ(v.name, "00000000000000ab");
  s.attributes[2].value = std::string("not-a-fingerprint");  // invalid: computed instead
  RedMetrics::key_view_of(s, &v);
  EXPECT_NE(v.name, "00000000000000ab");
  EXPECT_EQ(v.name.size(), 16u);
}

TEST(RedMetricsTest, ForkWithAnotherThreadsSpansPendingChildStartsFromZero) {
  RedMetrics red;
  std::atomic<bool> recorded{false}, finish{false};
  std::thread other([&] {  // unpublished spans, and alive (holding its slot) across fork()
    for (int i = 0; i < 10; ++i) red.on_span_end(make_span("other", SpanKind::kInternal, {}, 5));
    recorded.store(true);
    while (!finish.load()) std::this_thread::yield();
  });
  while (!recorded.load()) std::this_thread::yield();
  for (int i = 0; i < 3; ++i) red.on_span_end(make_span("main", SpanKind::kInternal, {}, 5));

  red.lock_for_fork();  // as the pthread_atfork prepare handler does
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    red.reset_in_child();
    // Child: no gtest assertions (they would report in both processes).
    int bad = 0;
    if (collect_totals(red).spans != 0) bad |= 1;  // the parent exports those
    for (int i = 0; i < 4; ++i) red.on_span_end(make_span("main", SpanKind::kInternal, {}, 5));
    if (collect_totals(red).spans != 4) bad |= 2;  // locks usable, own slot reused
    if (red.thread_count() != 1) bad |= 4;         // the other thread does not exist here
    _exit(bad);
  }
  red.unlock_for_fork();
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(collect_totals(red).spans, 13u);  // the parent lost nothing
  finish.store(true);
  other.join();
}

}  // namespace
}  // namespace pyrometer::agent
