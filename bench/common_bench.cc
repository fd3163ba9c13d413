// Micro-benchmarks of the shared core's per-request operations: id generation,
// traceparent parsing, histogram recording and SQL normalisation (ns/op).
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "common/exp_histogram.h"
#include "common/sql_normalizer.h"
#include "common/trace_id.h"
#include "common/traceparent.h"

namespace pc = pyrometer::common;

static void BM_SpanIdRandom(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(pc::SpanId::random());
}
BENCHMARK(BM_SpanIdRandom);

static void BM_TraceIdRandom(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(pc::TraceId::random());
}
BENCHMARK(BM_TraceIdRandom);

static void BM_TraceparentParse(benchmark::State& state) {
  const std::string header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  for (auto _ : state) {
    auto tp = pc::parse_traceparent(header);
    benchmark::DoNotOptimize(tp);
  }
}
BENCHMARK(BM_TraceparentParse);

static void BM_TraceparentFormat(benchmark::State& state) {
  pc::TraceParent tp{0, pc::TraceId::random(), pc::SpanId::random(), 1};
  char buf[pc::TraceParent::kHeaderSize];
  for (auto _ : state) {
    pc::format_traceparent(tp, buf);
    benchmark::DoNotOptimize(buf);
  }
}
BENCHMARK(BM_TraceparentFormat);

// Latency-like values (lognormal around 50 ms), pre-generated so the RNG is
// not measured; the histogram has settled its scale before timing.
static void BM_ExpHistogramRecord(benchmark::State& state) {
  std::mt19937_64 rng(1);
  std::lognormal_distribution<double> d(std::log(0.05), 1.0);
  std::vector<double> values(4096);
  for (double& v : values) v = d(rng);
  pc::ExpHistogram h;
  for (double v : values) h.record(v);
  size_t i = 0;
  for (auto _ : state) {
    h.record(values[i++ & 4095]);
  }
  benchmark::DoNotOptimize(h.count());
  state.counters["scale"] = h.scale();
}
BENCHMARK(BM_ExpHistogramRecord);

static void BM_ExpHistogramQuantile(benchmark::State& state) {
  std::mt19937_64 rng(2);
  std::lognormal_distribution<double> d(std::log(0.05), 1.0);
  pc::ExpHistogram h;
  for (int i = 0; i < 100000; ++i) h.record(d(rng));
  for (auto _ : state) benchmark::DoNotOptimize(h.quantile(0.99));
}
BENCHMARK(BM_ExpHistogramQuantile);

static void BM_SqlNormalizeDjango(benchmark::State& state) {
  const std::string sql =
      "SELECT \"app_user\".\"id\", \"app_user\".\"password\", \"app_user\".\"last_login\", "
      "\"app_user\".\"is_superuser\", \"app_user\".\"username\", \"app_user\".\"email\" FROM "
      "\"app_user\" WHERE \"app_user\".\"id\" = 12345 LIMIT 21";
  pc::NormalizedSql out;
  for (auto _ : state) {
    pc::normalize_sql(sql, &out);
    benchmark::DoNotOptimize(out.fingerprint);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * sql.size()));
}
BENCHMARK(BM_SqlNormalizeDjango);

static void BM_SqlNormalizeBulkInsert(benchmark::State& state) {
  std::string sql =
      "INSERT INTO \"polls_choice\" (\"question_id\", \"choice_text\", \"votes\") VALUES ";
  for (int i = 0; i < 50; ++i)
    sql += (i ? ", " : "") + std::string("(") + std::to_string(i) + ", 'choice text', 0)";
  pc::NormalizedSql out;
  for (auto _ : state) {
    pc::normalize_sql(sql, &out);
    benchmark::DoNotOptimize(out.fingerprint);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * sql.size()));
}
BENCHMARK(BM_SqlNormalizeBulkInsert);

BENCHMARK_MAIN();
