// EmbeddedStore tests: every signal through append → head → block → read,
// crash recovery, limits, retention, compaction, corruption.
#include "server/store/embedded/embedded_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "common/pprof_codec.h"
#include "common/testing/otlp_samples.h"
#include "common/testing/pprof_samples.h"
#include "server/store/store_test_util.h"

namespace pyrometer::server::store {
namespace {

namespace fs = std::filesystem;
namespace otlp = common::otlp;
using testing::encode;
using testing::trace_id;
using testing::web_traces;

constexpr uint64_t kT0 = 1'700'000'000'000'000'000ull;

class EmbeddedStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/pyrometer-store-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    opts_.data_dir = dir_ + "/data";
    opts_.background = false;
    opts_.clock = &clock_;
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  void open() {
    Status s = EmbeddedStore::open(opts_, &store_);
    ASSERT_TRUE(s.ok()) << s.to_string();
  }
  void append_traces(uint64_t first, int traces, int spans, uint64_t t0 = kT0) {
    otlp::TracesRequest req;
    web_traces(&req, first, traces, spans, t0);
    AppendResult r;
    Status s = store_->append_traces(encode(req), req, &r);
    ASSERT_TRUE(s.ok()) << s.to_string();
  }
  std::vector<SpanRow> trace(uint64_t n) {
    std::vector<SpanRow> rows;
    Status s = store_->find_trace(trace_id(n), &rows);
    EXPECT_TRUE(s.ok()) << s.to_string();
    return rows;
  }
  size_t count_spans(const SpanFilter& f = {}) {
    size_t n = 0;
    EXPECT_TRUE(store_->scan_spans(f, [&](const SpanRow&) { return ++n, true; }).ok());
    return n;
  }

  common::FakeClock clock_{kT0};
  std::string dir_;
  StoreOptions opts_;
  std::unique_ptr<EmbeddedStore> store_;
};

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

TEST_F(EmbeddedStoreTest, ReplayAfterCrashRecoversEveryAckedRecord) {
  open();
  for (int i = 0; i < 10; ++i) append_traces(static_cast<uint64_t>(i) * 100, 5, 4);
  ASSERT_TRUE(store_->cut_head().ok());  // part in a block
  for (int i = 10; i < 20; ++i) append_traces(static_cast<uint64_t>(i) * 100, 5, 4);
  // Crash image: acknowledged records are fsynced, so a copy of the
  // directory now is what a kill -9 leaves on disk.
  std::string crash = dir_ + "/crash";
  fs::copy(opts_.data_dir, crash, fs::copy_options::recursive);
  store_.reset();
  opts_.data_dir = crash;
  open();
  for (int i = 0; i < 20; ++i) {
    for (int t = 0; t < 5; ++t) {
      EXPECT_EQ(trace(static_cast<uint64_t>(i) * 100 + t).size(), 4u) << i << "/" << t;
    }
  }
  EXPECT_EQ(count_spans(), 20u * 5 * 4);
}

TEST_F(EmbeddedStoreTest, ReplayRecoversMetricsLogsAndProfiles) {
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
  ASSERT_TRUE(store_->append_profile(pprof, {"shop", "w", "/r", "cpu", kT0}, &r).ok());
  auto read_all = [&] {
    size_t points = 0, logs = 0;
    std::vector<ProfileRow> profiles;
    EXPECT_TRUE(
        store_->scan_metric_points({}, [&](const MetricPointRow&) { return ++points, true; }).ok());
    EXPECT_TRUE(store_->scan_logs({}, [&](const LogRow&) { return ++logs, true; }).ok());
    EXPECT_TRUE(store_->read_profiles({}, &profiles).ok());
    return std::make_tuple(points, logs, profiles.size());
  };
  auto before = read_all();
  EXPECT_GT(std::get<0>(before), 0u);
  EXPECT_GT(std::get<1>(before), 0u);
  EXPECT_EQ(std::get<2>(before), 1u);
  std::string crash = dir_ + "/crash";
  fs::copy(opts_.data_dir, crash, fs::copy_options::recursive);
  store_.reset();
  opts_.data_dir = crash;
  open();
  EXPECT_EQ(read_all(), before);
}

TEST_F(EmbeddedStoreTest, TornWalTailIsTruncatedAndEarlierRecordsSurvive) {
  open();
  for (int i = 0; i < 3; ++i) append_traces(static_cast<uint64_t>(i) * 10, 2, 3);
  std::string crash = dir_ + "/crash";
  fs::copy(opts_.data_dir, crash, fs::copy_options::recursive);
  store_.reset();
  auto segs = wal_list_segments(crash + "/wal");
  ASSERT_FALSE(segs.empty());
  std::string seg = wal_segment_path(crash + "/wal", segs.back());
  fs::resize_file(seg, fs::file_size(seg) - 5);  // cut into the last record
  opts_.data_dir = crash;
  open();
  EXPECT_EQ(store_->stats().wal_torn_tail_truncations, 1);
  EXPECT_EQ(trace(0).size(), 3u);
  EXPECT_EQ(trace(10).size(), 3u);
  EXPECT_EQ(trace(20).size(), 0u);  // the torn record was never acknowledged
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

TEST_F(EmbeddedStoreTest, CompactionKeepsEveryRow) {
  open();
  std::set<std::string> ids_before;
  for (int b = 0; b < 6; ++b) {
    append_traces(static_cast<uint64_t>(b) * 1000, 300, 5,
                  kT0 + static_cast<uint64_t>(b) * 60'000'000'000ull);
    ASSERT_TRUE(store_->cut_head().ok());
  }
  std::vector<SpanRow> before;
  ASSERT_TRUE(
      store_->scan_spans({}, [&](const SpanRow& r) { return before.push_back(r), true; }).ok());
  int merged = 0;
  ASSERT_TRUE(store_->compact(&merged).ok());
  EXPECT_EQ(merged, 1);
  EXPECT_EQ(store_->block_count(), 1u);
  std::vector<SpanRow> after;
  ASSERT_TRUE(
      store_->scan_spans({}, [&](const SpanRow& r) { return after.push_back(r), true; }).ok());
  auto key = [](const SpanRow& a, const SpanRow& b) {
    return std::tie(a.trace_id, a.span_id, a.start_time_unix_nano) <
           std::tie(b.trace_id, b.span_id, b.start_time_unix_nano);
  };
  std::sort(before.begin(), before.end(), key);
  std::sort(after.begin(), after.end(), key);
  EXPECT_EQ(after.size(), 6u * 300 * 5);
  EXPECT_EQ(after, before);
  EXPECT_EQ(trace(3 * 1000 + 17).size(), 5u);
  // Reopen: the compacted block alone is loaded.
  store_.reset();
  open();
  EXPECT_EQ(store_->block_count(), 1u);
  EXPECT_EQ(count_spans(), 6u * 300 * 5);
}

TEST_F(EmbeddedStoreTest, RetentionDeletesOldBlocksButKeepsRollups) {
  opts_.retention = std::chrono::hours(24);
  open();
  append_traces(1, 10, 3, clock_.wall_unix_nano());
  ASSERT_TRUE(store_->cut_head().ok());
  clock_.advance(20ull * 3600 * 1'000'000'000);
  append_traces(100, 10, 3, clock_.wall_unix_nano());
  ASSERT_TRUE(store_->cut_head().ok());
  ASSERT_TRUE(store_->apply_retention().ok());
  EXPECT_EQ(store_->block_count(), 2u);
  clock_.advance(10ull * 3600 * 1'000'000'000);  // first block now 30h old
  ASSERT_TRUE(store_->apply_retention().ok());
  EXPECT_EQ(store_->block_count(), 1u);
  EXPECT_TRUE(trace(1).empty());
  EXPECT_EQ(trace(100).size(), 3u);
  EXPECT_EQ(store_->stats().blocks_deleted_by_retention, 1);
  uint64_t rollup_spans = 0;
  ASSERT_TRUE(
      store_->scan_rollups({}, [&](const RollupRow& r) { return rollup_spans += r.count, true; })
          .ok());
  EXPECT_EQ(rollup_spans, 60u);  // both blocks' spans, the deleted one from rollups/
}

TEST_F(EmbeddedStoreTest, DiskBudgetDeletesOldestBlocks) {
  open();
  for (int b = 0; b < 4; ++b) {
    append_traces(static_cast<uint64_t>(b) * 1000, 200, 5,
                  kT0 + static_cast<uint64_t>(b) * 1'000'000'000);
    ASSERT_TRUE(store_->cut_head().ok());
  }
  uint64_t total = static_cast<uint64_t>(store_->stats().disk_bytes);
  store_.reset();
  opts_.max_disk_bytes = total * 6 / 10;
  open();
  ASSERT_TRUE(store_->apply_retention().ok());
  EXPECT_LT(store_->block_count(), 4u);
  EXPECT_GE(store_->block_count(), 1u);
  EXPECT_LE(static_cast<uint64_t>(store_->stats().disk_bytes), opts_.max_disk_bytes);
  EXPECT_TRUE(trace(0).empty());      // oldest went first
  EXPECT_EQ(trace(3000).size(), 5u);  // newest stays
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

TEST_F(EmbeddedStoreTest, FlippedByteInBlockFileIsReportedNotCrashed) {
  open();
  append_traces(1, 50, 4);
  ASSERT_TRUE(store_->cut_head().ok());
  append_traces(500, 50, 4);
  ASSERT_TRUE(store_->cut_head().ok());
  store_.reset();
  // Corrupt one byte in the middle of a column file of the first block.
  std::string blocks = opts_.data_dir + "/blocks";
  std::vector<std::string> dirs;
  for (auto& e : fs::directory_iterator(blocks)) dirs.push_back(e.path());
  std::sort(dirs.begin(), dirs.end());
  std::string file = dirs[0] + "/spans.attrs";
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  auto size = static_cast<std::streamoff>(fs::file_size(file));
  f.seekg(size - 10);
  char c;
  f.read(&c, 1);
  c ^= 0x10;
  f.seekp(size - 10);
  f.write(&c, 1);
  f.close();
  open();
  EXPECT_EQ(store_->block_count(), 2u);
  EXPECT_EQ(count_spans(), 200u);  // the corrupt block is skipped
  EXPECT_GE(store_->stats().block_crc_failures, 1);
  EXPECT_EQ(trace(600 - 100 + 1).size(), 4u);  // trace 501 in the good block
  // Corrupt meta: the block is skipped at open.
  store_.reset();
  std::fstream m(dirs[1] + "/meta", std::ios::in | std::ios::out | std::ios::binary);
  m.seekp(12);
  m.write("\xff", 1);
  m.close();
  open();
  EXPECT_EQ(store_->block_count(), 1u);
  EXPECT_GE(store_->stats().block_crc_failures, 1);
}

// Flip one byte in every file of a block in turn: always detected, never a crash.
TEST_F(EmbeddedStoreTest, EveryBlockFileIsChecksummed) {
  open();
  append_traces(1, 30, 4);
  ASSERT_TRUE(store_->cut_head().ok());
  store_.reset();
  std::string pristine = dir_ + "/pristine";
  fs::copy(opts_.data_dir, pristine, fs::copy_options::recursive);
  std::vector<std::string> files;
  for (auto& e : fs::recursive_directory_iterator(pristine + "/blocks")) {
    if (e.is_regular_file()) files.push_back(fs::relative(e.path(), pristine));
  }
  ASSERT_GE(files.size(), 10u);
  for (const auto& rel : files) {
    std::string work = dir_ + "/work";
    fs::remove_all(work);
    fs::copy(pristine, work, fs::copy_options::recursive);
    std::string path = work + "/" + rel;
    auto size = fs::file_size(path);
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(size / 2));
    char c;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x01);
    f.seekp(static_cast<std::streamoff>(size / 2));
    f.write(&c, 1);
    f.close();
    opts_.data_dir = work;
    open();
    size_t spans = count_spans();
    std::vector<SpanRow> rows;
    ASSERT_TRUE(store_->find_trace(trace_id(5), &rows).ok());
    size_t rollups = 0;
    ASSERT_TRUE(store_->scan_rollups({}, [&](const RollupRow&) { return ++rollups, true; }).ok());
    EXPECT_GE(store_->stats().block_crc_failures, 1) << rel;
    EXPECT_TRUE(spans == 0 || spans == 120u) << rel;
    EXPECT_TRUE(rows.empty() || rows.size() == 4u) << rel;
    store_.reset();
  }
}

TEST_F(EmbeddedStoreTest, FailingFilesystemGivesIOErrorNotCrash) {
  auto faulty = std::make_shared<FaultyFileOps>();
  opts_.file_ops = faulty;
  open();
  append_traces(1, 3, 3);
  faulty->syncs_before_failure = 0;
  otlp::TracesRequest req;
  web_traces(&req, 50, 1, 1, kT0);
  AppendResult r;
  Status s = store_->append_traces(encode(req), req, &r);
  EXPECT_EQ(s.code(), Status::Code::kIOError);
  EXPECT_EQ(store_->stats().refused[0], 1);
  // Block writing fails too; the head stays readable and is retried later.
  EXPECT_FALSE(store_->cut_head().ok());
  EXPECT_EQ(trace(1).size(), 3u);
  faulty->syncs_before_failure = -1;
  ASSERT_TRUE(store_->cut_head().ok());
  EXPECT_EQ(store_->block_count(), 1u);
  EXPECT_EQ(trace(1).size(), 3u);
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
}  // namespace pyrometer::server::store
