// Merging rollup files (rollups/) per past window: same query results before,
// after and across a reopen, and the leftovers of a merge a crash interrupted
// (temp file; merged file beside its inputs) are cleaned at open.
#include <algorithm>
#include <filesystem>
#include <fstream>

#include "server/store/embedded/store_fixture.h"
#include "server/store/retention.h"
#include "server/store/rollup_file.h"

namespace pyrometer::server::store::testing {
namespace {

constexpr uint64_t kMinute = 60ull * 1'000'000'000;

class RollupCompactionTest : public EmbeddedStoreTest {
 protected:
  void SetUp() override {
    EmbeddedStoreTest::SetUp();
    opts_.retention = std::chrono::hours(1);
    opts_.rollup_merge_window = std::chrono::hours(1);
  }
  // Six blocks 15 minutes apart, two of them sharing a minute, then every
  // block past retention: six files in rollups/ over two or three windows.
  void make_rollup_files() {
    open();
    for (int b = 0; b < 6; ++b) {
      uint64_t t = clock_.wall_unix_nano();
      append_traces(static_cast<uint64_t>(b) * 1000, 40, 3, t);
      if (b == 2) {
        ASSERT_TRUE(store_->cut_head().ok());
        append_traces(static_cast<uint64_t>(b) * 1000 + 500, 40, 3, t);  // same minute
      }
      ASSERT_TRUE(store_->cut_head().ok());
      clock_.advance(15 * kMinute);
    }
    clock_.advance(3 * 60 * kMinute);
    ASSERT_TRUE(store_->apply_retention().ok());
    ASSERT_EQ(store_->block_count(), 0u);
    ASSERT_EQ(files().size(), 7u);
  }
  std::vector<RollupFileInfo> files() { return list_rollup_files(opts_.data_dir + "/rollups"); }
  std::vector<RollupRow> rollups(const RollupFilter& f = {}) {
    std::vector<RollupRow> rows;
    EXPECT_TRUE(
        store_->scan_rollups(f, [&](const RollupRow& r) { return rows.push_back(r), true; }).ok());
    return rows;
  }
  // Three queries whose answers must not change.
  std::vector<std::vector<RollupRow>> answers() {
    RollupFilter by_service;
    by_service.service = "shop";
    RollupFilter window;
    window.start_unix_nano = kT0 + 20 * kMinute;
    window.end_unix_nano = kT0 + 50 * kMinute;
    return {rollups(), rollups(by_service), rollups(window)};
  }
};

TEST_F(RollupCompactionTest, MergesPastWindowsWithSameResults) {
  make_rollup_files();
  auto before = answers();
  ASSERT_FALSE(before[0].empty());
  ASSERT_FALSE(before[2].empty());
  uint64_t spans = 0;
  for (const auto& r : before[0]) spans += r.count;
  EXPECT_EQ(spans, 7u * 40 * 3);

  // Files by window (newest minute / 1h): each window with two or more
  // files becomes one file.
  std::map<uint64_t, int> per_window;
  for (const auto& f : files()) per_window[f.max_minute_unix_nano / (60 * kMinute)]++;
  size_t expected_files = per_window.size();
  int expected_merges = 0;
  for (const auto& [w, n] : per_window) expected_merges += n >= 2 ? 1 : 0;
  ASSERT_GE(expected_merges, 1);

  int written = 0;
  ASSERT_TRUE(store_->compact_rollups(&written).ok());
  EXPECT_EQ(written, expected_merges);
  EXPECT_EQ(files().size(), expected_files);
  EXPECT_EQ(answers(), before);
  // Nothing left to merge.
  ASSERT_TRUE(store_->compact_rollups(&written).ok());
  EXPECT_EQ(written, 0);
  // The merged files are what a reopened store reads.
  store_.reset();
  open();
  EXPECT_EQ(files().size(), expected_files);
  EXPECT_EQ(answers(), before);
  EXPECT_EQ(store_->stats().block_crc_failures, 0);
}

TEST_F(RollupCompactionTest, WindowNotOverIsLeftAlone) {
  make_rollup_files();
  opts_.rollup_merge_window = std::chrono::hours(24 * 365 * 100);  // ends in the future
  store_.reset();
  open();
  int written = -1;
  ASSERT_TRUE(store_->compact_rollups(&written).ok());
  EXPECT_EQ(written, 0);
  EXPECT_EQ(files().size(), 7u);
}

TEST_F(RollupCompactionTest, CrashLeftoversAreCleanedAtOpen) {
  make_rollup_files();
  auto before = answers();
  store_.reset();
  std::string dir = opts_.data_dir + "/rollups";
  auto inputs = files();
  // As if a merge of every file crashed after its rename, before deleting
  // its inputs, and another one crashed before its rename.
  RollupSet merged;
  std::vector<uint64_t> parents;
  uint64_t max_minute = 0;
  for (const auto& f : inputs) {
    std::string file;
    ASSERT_TRUE(read_file(dir + "/" + f.name, &file).ok());
    ASSERT_TRUE(read_rollup_file(file, &merged).ok());
    parents.push_back(f.id);
    max_minute = std::max(max_minute, f.max_minute_unix_nano);
  }
  std::string data;
  encode_merged_rollup_file(parents, merged, &data);
  std::string merged_name = rollup_file_name(parents.back() + 100, max_minute);
  std::ofstream(dir + "/" + merged_name, std::ios::binary) << data;
  std::ofstream(dir + "/" + rollup_file_name(parents.back() + 101, max_minute) + ".tmp",
                std::ios::binary)
      << data.substr(0, data.size() / 2);
  open();
  auto left = files();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].name, merged_name);
  EXPECT_EQ(answers(), before);
  size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++entries;
  EXPECT_EQ(entries, 1u);  // the temp file is gone too
  // New ids stay above every id a rollup file in use has (the deleted temp
  // file's id may be reused).
  append_traces(777000, 5, 2, clock_.wall_unix_nano());
  ASSERT_TRUE(store_->cut_head().ok());
  for (const auto& e : fs::directory_iterator(opts_.data_dir + "/blocks")) {
    uint64_t id = std::stoull(e.path().filename().string(), nullptr, 16);
    EXPECT_GT(id, parents.back() + 100);
  }
}

TEST_F(RollupCompactionTest, CorruptMergedFileIsReportedAndItsInputsStillCount) {
  make_rollup_files();
  auto before = answers();
  store_.reset();
  std::string dir = opts_.data_dir + "/rollups";
  auto inputs = files();
  RollupSet merged;
  std::vector<uint64_t> parents;
  for (const auto& f : inputs) {
    std::string file;
    ASSERT_TRUE(read_file(dir + "/" + f.name, &file).ok());
    ASSERT_TRUE(read_rollup_file(file, &merged).ok());
    parents.push_back(f.id);
  }
  std::string data;
  encode_merged_rollup_file(parents, merged, &data);
  data[data.size() / 2] ^= 0x40;  // flipped bit: CRC mismatch
  std::ofstream(dir + "/" + rollup_file_name(parents.back() + 100, 0), std::ios::binary) << data;
  open();
  EXPECT_EQ(files().size(), inputs.size() + 1);  // nothing deleted on a bad parent list
  EXPECT_EQ(answers(), before);                  // the corrupt file is skipped
  EXPECT_GE(store_->stats().block_crc_failures, 1);
}

}  // namespace
}  // namespace pyrometer::server::store::testing
