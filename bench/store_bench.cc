// Embedded store benchmarks: spans/s appended durably (WAL + fdatasync, group
// commit) from one and from several threads, and bytes per span on disk after
// compaction for a realistic web-span workload. Run: build/.../bench/store_bench
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <mutex>

#include "server/store/embedded/embedded_store.h"
#include "server/store/head.h"
#include "server/store/store_test_util.h"

namespace {

namespace fs = std::filesystem;
namespace st = pyrometer::server::store;
namespace otlp = pyrometer::common::otlp;

constexpr uint64_t kT0 = 1'700'000'000'000'000'000ull;
constexpr int kTracesPerRequest = 100;
constexpr int kSpansPerTrace = 5;  // 500 spans per OTLP request

struct Request {
  otlp::TracesRequest decoded;
  std::string encoded;
};

// Pre-built requests so the benchmark measures the store, not the encoder.
const std::vector<std::unique_ptr<Request>>& requests() {
  static std::vector<std::unique_ptr<Request>> reqs = [] {
    std::vector<std::unique_ptr<Request>> v;
    for (int i = 0; i < 64; ++i) {
      auto r = std::make_unique<Request>();
      st::testing::web_traces(&r->decoded, static_cast<uint64_t>(i) * kTracesPerRequest,
                              kTracesPerRequest, kSpansPerTrace,
                              kT0 + static_cast<uint64_t>(i) * 100'000'000ull);
      r->encoded = st::testing::encode(r->decoded);
      v.push_back(std::move(r));
    }
    return v;
  }();
  return reqs;
}

std::string temp_dir() {
  char tmpl[] = "/tmp/pyrometer-store-bench-XXXXXX";
  return ::mkdtemp(tmpl);
}

// One store shared by the threads of a run; created by whichever thread
// arrives first and torn down after the run.
std::mutex g_mu;
std::unique_ptr<st::EmbeddedStore> g_store;
std::string g_dir;
std::atomic<int> g_users{0};

void BM_AppendDurable(benchmark::State& state) {
  {
    std::lock_guard<std::mutex> lock(g_mu);
    if (!g_store) {
      g_dir = temp_dir();
      st::StoreOptions o;
      o.data_dir = g_dir;
      o.max_memory_bytes = 4ull << 30;
      o.block_max_spans = 2'000'000;
      st::EmbeddedStore::open(o, &g_store);
    }
    g_users++;
  }
  const auto& reqs = requests();
  size_t i = static_cast<size_t>(state.thread_index());
  int64_t spans = 0;
  for (auto _ : state) {
    const Request& r = *reqs[i++ % reqs.size()];
    st::AppendResult res;
    auto s = g_store->append_traces(r.encoded, r.decoded, &res);
    if (!s.ok()) {
      state.SkipWithError(s.to_string().c_str());
      break;
    }
    spans += res.accepted;
  }
  state.SetItemsProcessed(spans);
  state.counters["spans_per_s"] =
      benchmark::Counter(static_cast<double>(spans), benchmark::Counter::kIsRate);
  std::lock_guard<std::mutex> lock(g_mu);
  if (--g_users == 0) {
    auto stats = g_store->stats();
    state.counters["fsyncs"] = static_cast<double>(stats.wal_fsyncs);
    g_store.reset();
    fs::remove_all(g_dir);
  }
}
BENCHMARK(BM_AppendDurable)->Threads(1)->Threads(4)->Threads(16)->UseRealTime()->MinTime(2.0);

void BM_BytesPerSpanAfterCompaction(benchmark::State& state) {
  for (auto _ : state) {
    std::string dir = temp_dir();
    st::StoreOptions o;
    o.data_dir = dir;
    o.background = false;
    o.max_memory_bytes = 4ull << 30;
    std::unique_ptr<st::EmbeddedStore> store;
    st::EmbeddedStore::open(o, &store);
    int64_t spans = 0;
    const int kBlocks = 4, kRequestsPerBlock = 100;  // 200k spans
    for (int b = 0; b < kBlocks; ++b) {
      for (int i = 0; i < kRequestsPerBlock; ++i) {
        otlp::TracesRequest req;
        uint64_t first = static_cast<uint64_t>(b * kRequestsPerBlock + i) * kTracesPerRequest;
        st::testing::web_traces(&req, first, kTracesPerRequest, kSpansPerTrace,
                                kT0 + first * 1'000'000ull, "shop", static_cast<uint32_t>(first));
        st::AppendResult res;
        store->append_traces(st::testing::encode(req), req, &res);
        spans += res.accepted;
      }
      store->cut_head();
    }
    store->compact();
    uint64_t bytes = 0;
    for (auto& e : fs::recursive_directory_iterator(dir + "/blocks")) {
      if (e.is_regular_file()) bytes += e.file_size();
    }
    state.counters["spans"] = static_cast<double>(spans);
    state.counters["blocks"] = static_cast<double>(store->block_count());
    state.counters["bytes_per_span"] = static_cast<double>(bytes) / static_cast<double>(spans);
    // Per-file breakdown, to see which column dominates.
    for (auto& e : fs::recursive_directory_iterator(dir + "/blocks")) {
      if (e.is_regular_file() && state.range(0)) {
        state.counters["B/span " + e.path().filename().string()] =
            static_cast<double>(e.file_size()) / static_cast<double>(spans);
      }
    }
    store.reset();
    fs::remove_all(dir);
  }
}
BENCHMARK(BM_BytesPerSpanAfterCompaction)
    ->Arg(0)
    ->Arg(1)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

// Head insert alone (no WAL): the CPU cost per span of the columnar head,
// dictionaries, trace limit bookkeeping and rollups.
void BM_HeadInsert(benchmark::State& state) {
  const auto& reqs = requests();
  auto head = std::make_unique<st::Head>(10'000);
  size_t i = 0;
  int64_t spans = 0;
  for (auto _ : state) {
    if (head->span_rows() > 1'000'000) {
      state.PauseTiming();
      head = std::make_unique<st::Head>(10'000);
      state.ResumeTiming();
    }
    spans += head->insert_traces(reqs[i++ % reqs.size()]->decoded).accepted;
  }
  state.SetItemsProcessed(spans);
}
BENCHMARK(BM_HeadInsert);

// find_trace on a compacted store of 1M spans in 4 blocks' worth of data plus
// a head: the cost a trace-by-id query pays whatever its time range.
void BM_FindTrace(benchmark::State& state) {
  std::string dir = temp_dir();
  st::StoreOptions o;
  o.data_dir = dir;
  o.background = false;
  o.max_memory_bytes = 4ull << 30;
  o.compact_max_spans = static_cast<uint64_t>(state.range(0));
  std::unique_ptr<st::EmbeddedStore> store;
  st::EmbeddedStore::open(o, &store);
  const int kBlocks = 8, kRequestsPerBlock = 250;  // 1M spans
  uint64_t traces = 0;
  for (int b = 0; b < kBlocks; ++b) {
    for (int i = 0; i < kRequestsPerBlock; ++i) {
      otlp::TracesRequest req;
      uint64_t first = static_cast<uint64_t>(b * kRequestsPerBlock + i) * kTracesPerRequest;
      st::testing::web_traces(&req, first, kTracesPerRequest, kSpansPerTrace,
                              kT0 + first * 1'000'000ull, "shop", static_cast<uint32_t>(first));
      st::AppendResult res;
      store->append_traces(st::testing::encode(req), req, &res);
      traces += kTracesPerRequest;
    }
    store->cut_head();
  }
  store->compact();
  uint64_t n = 0, found = 0;
  for (auto _ : state) {
    std::vector<st::SpanRow> rows;
    store->find_trace(st::testing::trace_id((n++ * 7919) % traces), &rows);
    found += rows.size();
  }
  state.counters["blocks"] = static_cast<double>(store->block_count());
  state.counters["spans_found_per_lookup"] = static_cast<double>(found) / static_cast<double>(n);
  store.reset();
  fs::remove_all(dir);
}
BENCHMARK(BM_FindTrace)->Arg(250'000)->Arg(4'000'000)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
