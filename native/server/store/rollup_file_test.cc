// Rollup files: the merged-file encoding round-trips and is CRC-checked, and
// merge planning groups files per finished window only.
#include "server/store/rollup_file.h"

#include <gtest/gtest.h>

#include "server/store/block_writer.h"
#include "server/store/retention.h"

namespace pyrometer::server::store {
namespace {

constexpr uint64_t kHour = 3600ull * 1'000'000'000;

RollupSet sample_set() {
  RollupSet set;
  for (int m = 0; m < 3; ++m) {
    RollupRow r;
    r.minute_unix_nano = (1000 + m) * kMinuteNanos;
    r.service = "shop";
    r.route = m == 2 ? "/cart" : "/orders";
    r.span_kind = 2;
    r.status_class = "2xx";
    r.count = 10 + m;
    r.errors = m;
    histogram_record(&r.duration_seconds, 0.25, r.count);
    set.merge(r);
  }
  return set;
}

std::vector<RollupRow> rows_of(const RollupSet& s) {
  std::vector<RollupRow> out;
  s.visit({}, [&](const RollupRow& r) { return out.push_back(r), true; });
  return out;
}

TEST(RollupFile, MergedFileRoundTripsWithParents) {
  RollupSet set = sample_set();
  std::string file;
  encode_merged_rollup_file({7, 9, 12}, set, &file);
  RollupSet back;
  ASSERT_TRUE(read_rollup_file(file, &back).ok());
  EXPECT_EQ(rows_of(back), rows_of(set));
  std::vector<uint64_t> parents;
  ASSERT_TRUE(rollup_file_parents(file, &parents).ok());
  EXPECT_EQ(parents, (std::vector<uint64_t>{7, 9, 12}));
}

TEST(RollupFile, BlockRollupFilesReadTooAndHaveNoParents) {
  RollupSet set = sample_set();
  std::string raw, file;
  set.serialize(&raw);
  encode_blob_file(raw, &file);
  RollupSet back;
  ASSERT_TRUE(read_rollup_file(file, &back).ok());
  EXPECT_EQ(rows_of(back), rows_of(set));
  std::vector<uint64_t> parents{1};
  ASSERT_TRUE(rollup_file_parents(file, &parents).ok());
  EXPECT_TRUE(parents.empty());
}

TEST(RollupFile, EveryFlippedByteIsDetected) {
  std::string file;
  encode_merged_rollup_file({3, 4}, sample_set(), &file);
  for (size_t i = 0; i < file.size(); ++i) {
    std::string bad = file;
    bad[i] ^= 0x01;
    RollupSet into;
    std::vector<uint64_t> parents;
    EXPECT_FALSE(read_rollup_file(bad, &into).ok()) << "byte " << i;
    // With a flipped magic byte it is no merged file at all (no parents to
    // read); read_rollup_file then fails the block file's magic check.
    if (i >= 4) EXPECT_FALSE(rollup_file_parents(bad, &parents).ok()) << "byte " << i;
  }
  RollupSet into;
  EXPECT_FALSE(read_rollup_file(std::string_view(file).substr(0, file.size() - 1), &into).ok());
}

TEST(RollupFile, PlanGroupsFinishedWindowsWithTwoOrMoreFiles) {
  auto f = [](uint64_t id, uint64_t t) {
    return RollupFileInfo{rollup_file_name(id, t), id, t / 1'000'000'000 * 1'000'000'000};
  };
  uint64_t day = 24 * kHour;
  std::vector<RollupFileInfo> files = {
      f(1, 10 * day + kHour), f(2, 10 * day + 5 * kHour),  // day 10: two files
      f(3, 11 * day + kHour),                              // day 11: alone
      f(4, 12 * day + kHour), f(5, 12 * day + 2 * kHour),  // day 12: not over yet
  };
  auto plan = plan_rollup_merges(files, day, 12 * day + 3 * kHour);
  ASSERT_EQ(plan.size(), 1u);
  ASSERT_EQ(plan[0].size(), 2u);
  EXPECT_EQ(plan[0][0].id, 1u);
  EXPECT_EQ(plan[0][1].id, 2u);
  EXPECT_TRUE(plan_rollup_merges(files, 0, 100 * day).empty());  // merging off
  EXPECT_EQ(plan_rollup_merges(files, day, 13 * day).size(), 2u);
}

}  // namespace
}  // namespace pyrometer::server::store
