// WAL tests: replay, torn tails at every byte offset, mid-segment corruption,
// group commit from concurrent writers, injected write/fsync failures.
#include "server/store/wal.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "server/store/group_commit.h"

namespace pyrometer::server::store {
namespace {

namespace fs = std::filesystem;

class WalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/pyrometer-wal-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<std::string> replay(const std::string& path, WalReplayStats* st) {
    std::vector<std::string> got;
    Status s = wal_replay_segment(
        path, true,
        [&](WalRecordType t, std::string_view p) {
          got.emplace_back(p);
          return Status::ok_status();
        },
        st);
    EXPECT_TRUE(s.ok()) << s.to_string();
    return got;
  }

  // Writes `n` records into segment 1 and returns their payloads.
  std::vector<std::string> write_records(int n) {
    std::unique_ptr<WalSegment> seg;
    EXPECT_TRUE(WalSegment::create(dir_, 1, FileOps::real().get(), &seg).ok());
    std::vector<std::string> payloads;
    for (int i = 0; i < n; ++i) {
      payloads.push_back("record-" + std::to_string(i) +
                         std::string(static_cast<size_t>(i * 7), 'x'));
      std::string framed;
      wal_frame_record(WalRecordType::kTraces, payloads.back(), &framed);
      EXPECT_TRUE(seg->append(framed).ok());
    }
    EXPECT_TRUE(seg->sync().ok());
    return payloads;
  }

  std::string dir_;
};

TEST_F(WalTest, ReplaysEveryRecordInOrder) {
  auto payloads = write_records(20);
  WalReplayStats st;
  EXPECT_EQ(replay(wal_segment_path(dir_, 1), &st), payloads);
  EXPECT_EQ(st.records, 20);
  EXPECT_EQ(st.torn_tail_truncations, 0);
  EXPECT_EQ(st.crc_failures, 0);
}

TEST_F(WalTest, TornTailAtEveryOffsetOfLastRecordIsTruncated) {
  auto payloads = write_records(5);
  std::string path = wal_segment_path(dir_, 1);
  std::string full;
  ASSERT_TRUE(read_file(path, &full).ok());
  size_t last_len = kWalRecordHeaderSize + payloads.back().size();
  size_t last_start = full.size() - last_len;
  std::vector<std::string> earlier(payloads.begin(), payloads.end() - 1);
  for (size_t cut = last_start + 1; cut < full.size(); ++cut) {
    std::ofstream(path, std::ios::binary | std::ios::trunc)
        .write(full.data(), static_cast<std::streamsize>(cut));
    WalReplayStats st;
    EXPECT_EQ(replay(path, &st), earlier) << "cut at " << cut;
    EXPECT_EQ(st.torn_tail_truncations, 1) << "cut at " << cut;
    EXPECT_EQ(fs::file_size(path), last_start) << "tail truncated at " << cut;
    // After truncation the segment replays cleanly.
    WalReplayStats again;
    EXPECT_EQ(replay(path, &again), earlier);
    EXPECT_EQ(again.torn_tail_truncations, 0);
  }
}

TEST_F(WalTest, FlippedByteInMiddleRecordIsReportedAndRestSkipped) {
  auto payloads = write_records(6);
  std::string path = wal_segment_path(dir_, 1);
  std::string full;
  ASSERT_TRUE(read_file(path, &full).ok());
  // Offset of record 2's payload.
  size_t off = kWalSegmentHeaderSize;
  for (int i = 0; i < 2; ++i) off += kWalRecordHeaderSize + payloads[i].size();
  full[off + kWalRecordHeaderSize + 3] ^= 0x40;
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(full.data(), static_cast<std::streamsize>(full.size()));
  WalReplayStats st;
  auto got = replay(path, &st);
  EXPECT_EQ(got, std::vector<std::string>(payloads.begin(), payloads.begin() + 2));
  EXPECT_EQ(st.crc_failures, 1);
  EXPECT_EQ(st.torn_tail_truncations, 0);
  EXPECT_EQ(fs::file_size(path), full.size()) << "mid-segment corruption is not truncated";
}

TEST_F(WalTest, GarbageSegmentNeverCrashes) {
  std::string path = wal_segment_path(dir_, 3);
  std::string junk = "PWAL\x01\x00\x00\x00";
  junk[0] = 'P';
  for (int i = 0; i < 4000; ++i) junk.push_back(static_cast<char>((i * 131) ^ (i >> 3)));
  std::ofstream(path, std::ios::binary)
      .write(junk.data(), static_cast<std::streamsize>(junk.size()));
  WalReplayStats st;
  replay(path, &st);
  EXPECT_GE(st.crc_failures + st.torn_tail_truncations, 1);
}

TEST_F(WalTest, GroupCommitBatchesConcurrentAppends) {
  GroupCommitOptions opts;
  opts.fsync_interval = std::chrono::microseconds(200);
  GroupCommit gc(dir_, 1, FileOps::real(), opts);
  ASSERT_TRUE(gc.start().ok());
  constexpr int kThreads = 8, kPer = 50;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPer; ++i) {
        if (gc.append(WalRecordType::kLogs, "t" + std::to_string(t) + "-" + std::to_string(i)).ok())
          ok++;
      }
    });
  }
  for (auto& th : threads) th.join();
  gc.stop();
  EXPECT_EQ(ok.load(), kThreads * kPer);
  EXPECT_LE(gc.stats().fsyncs, kThreads * kPer);
  EXPECT_GE(gc.stats().fsyncs, 1);
  WalReplayStats st;
  auto got = replay(wal_segment_path(dir_, 1), &st);
  EXPECT_EQ(got.size(), static_cast<size_t>(kThreads * kPer));
}

TEST_F(WalTest, RollStartsNewSegmentAndKeepsOrder) {
  GroupCommit gc(dir_, 1, FileOps::real(), {});
  ASSERT_TRUE(gc.start().ok());
  ASSERT_TRUE(gc.append(WalRecordType::kTraces, "a").ok());
  uint64_t seq = 0;
  ASSERT_TRUE(gc.roll(&seq).ok());
  EXPECT_EQ(seq, 2u);
  ASSERT_TRUE(gc.append(WalRecordType::kTraces, "b").ok());
  gc.stop();
  EXPECT_EQ(wal_list_segments(dir_), (std::vector<uint64_t>{1, 2}));
  WalReplayStats st;
  EXPECT_EQ(replay(wal_segment_path(dir_, 1), &st), std::vector<std::string>{"a"});
  EXPECT_EQ(replay(wal_segment_path(dir_, 2), &st), std::vector<std::string>{"b"});
}

TEST_F(WalTest, InjectedWriteAndSyncFailuresReturnIOErrorThenRecover) {
  auto ops = std::make_shared<FaultyFileOps>();
  GroupCommit gc(dir_, 1, ops, {});
  ASSERT_TRUE(gc.start().ok());
  ASSERT_TRUE(gc.append(WalRecordType::kTraces, "good-1").ok());
  ops->writes_before_failure = 0;
  Status s = gc.append(WalRecordType::kTraces, "lost");
  EXPECT_EQ(s.code(), Status::Code::kIOError) << s.to_string();
  ops->writes_before_failure = -1;
  ops->syncs_before_failure = 0;
  s = gc.append(WalRecordType::kTraces, "maybe");
  EXPECT_EQ(s.code(), Status::Code::kIOError) << s.to_string();
  ops->syncs_before_failure = -1;
  ASSERT_TRUE(gc.append(WalRecordType::kTraces, "good-2").ok());
  gc.stop();
  // good-2 went to a fresh segment after the failures.
  std::vector<std::string> all;
  for (uint64_t seq : wal_list_segments(dir_)) {
    WalReplayStats st;
    for (auto& p : replay(wal_segment_path(dir_, seq), &st)) all.push_back(p);
  }
  ASSERT_GE(all.size(), 2u);
  EXPECT_EQ(all.front(), "good-1");
  EXPECT_EQ(all.back(), "good-2");
}

}  // namespace
}  // namespace pyrometer::server::store
