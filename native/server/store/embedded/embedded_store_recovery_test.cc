// EmbeddedStore recovery tests: WAL replay after a crash, torn tails, corrupt
// blocks, failing filesystem, retention by age and disk budget, compaction.
#include "server/store/embedded/store_fixture.h"

namespace pyrometer::server::store::testing {
namespace {

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

}  // namespace
}  // namespace pyrometer::server::store::testing
