// profiles.traces: the per-trace chunk file round-trips whole and by one
// trace, rejects corrupt chunks, and blocks of both layouts answer lookups.
#include "server/store/profile_trace_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "server/store/block_reader.h"
#include "server/store/block_writer.h"
#include "server/store/file_ops.h"
#include "server/store/profile_merge.h"
#include "server/store/rollup.h"

namespace pyrometer::server::store {
namespace {

namespace fs = std::filesystem;
constexpr uint64_t kT0 = 1700000000ull * 1000000000;

std::string id(char c, size_t n) { return std::string(n, c); }

ProfileRow span_row(char trace, char span, const std::string& frame, int64_t count) {
  ProfileRow r;
  r.minute_unix_nano = kT0;
  r.service = "shop";
  r.profile_type = "cpu";
  r.value_types = {"samples/count"};
  r.trace_id = id(trace, 16);
  r.span_id = id(span, 8);
  r.samples.push_back({{"main app.py:1", frame}, {count}});
  return r;
}

// Three traces ('a', 'b', 'c') with distinct counts, plus one merged row.
ProfileSet sample_set() {
  ProfileSet set;
  set.merge(span_row('a', '1', "fa a.py:2", 3));
  set.merge(span_row('b', '1', "fb b.py:3", 5));
  set.merge(span_row('b', '2', "fb2 b.py:4", 7));
  set.merge(span_row('c', '1', "fc c.py:5", 11));
  ProfileRow merged = span_row('x', 'x', "f m.py:1", 2);
  merged.trace_id.clear();
  merged.span_id.clear();
  merged.route = "/r";
  set.merge(merged);
  return set;
}

// (span byte, leaf frame) → count of one trace's rows.
std::map<std::pair<char, std::string>, int64_t> rows_of(const ProfileTraceIndex& idx, char t) {
  std::vector<ProfileRow> rows;
  idx.collect(id(t, 16), "", &rows);
  std::map<std::pair<char, std::string>, int64_t> out;
  for (const auto& r : rows) {
    EXPECT_EQ(r.service, "shop");
    for (const auto& s : r.samples) out[{r.span_id.at(0), s.frames.back()}] += s.values.at(0);
  }
  return out;
}

class ProfileTraceFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/pyrometer-ptf-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& data) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << data;
    return path;
  }
  std::shared_ptr<Block> block(const ProfileSet& set, uint64_t n, bool legacy) {
    BlockInput in;
    in.profiles = &set;
    in.legacy_profile_traces = legacy;
    BlockMeta meta;
    Status s = write_block(dir_, n, in, FileOps::real().get(), &meta);
    EXPECT_TRUE(s.ok()) << s.to_string();
    std::shared_ptr<Block> b;
    s = Block::open(dir_ + "/" + block_dir_name(n), &b);
    EXPECT_TRUE(s.ok()) << s.to_string();
    return b;
  }
  std::string dir_;
};

TEST_F(ProfileTraceFileTest, RoundTripsWholeAndOneTrace) {
  ProfileSet set = sample_set();
  std::string file;
  write_profile_trace_file(set.trace_index(), &file);
  ASSERT_EQ(file.substr(0, 4), "PTF1");
  EXPECT_EQ(get_fixed32(file.data() + 4), 3u);

  ProfileTraceIndex whole;
  ASSERT_TRUE(parse_profile_trace_file(file, &whole).ok());
  EXPECT_EQ(whole.trace_ids(), (std::vector<std::string>{id('a', 16), id('b', 16), id('c', 16)}));
  auto b = rows_of(whole, 'b');
  EXPECT_EQ(b.size(), 2u);
  EXPECT_EQ((b[{'1', "fb b.py:3"}]), 5);
  EXPECT_EQ((b[{'2', "fb2 b.py:4"}]), 7);

  std::string path = write("profiles.traces", file);
  for (char t : {'a', 'b', 'c'}) {
    ProfileTraceIndex one;
    ASSERT_TRUE(read_profile_trace_file_one(path, id(t, 16), &one).ok());
    EXPECT_EQ(one.trace_ids(), std::vector<std::string>{id(t, 16)});
    EXPECT_EQ(rows_of(one, t), rows_of(whole, t));
  }
  ProfileTraceIndex none;
  EXPECT_TRUE(read_profile_trace_file_one(path, id('0', 16), &none).ok());
  EXPECT_TRUE(read_profile_trace_file_one(path, id('z', 16), &none).ok());
  EXPECT_TRUE(none.empty());

  std::string empty;
  write_profile_trace_file(ProfileTraceIndex(), &empty);
  EXPECT_EQ(empty.size(), kProfileTraceFileHeader);
  EXPECT_TRUE(parse_profile_trace_file(empty, &none).ok());
}

TEST_F(ProfileTraceFileTest, CorruptChunksAndTablesAreReported) {
  ProfileSet set = sample_set();
  std::string file;
  write_profile_trace_file(set.trace_index(), &file);
  // Flip the last byte of trace 'b''s chunk: its lookup fails, 'a' still reads.
  uint64_t off_b = get_fixed64(file.data() + kProfileTraceFileHeader + kProfileTraceFileEntry + 16);
  uint32_t len_b = get_fixed32(file.data() + kProfileTraceFileHeader + kProfileTraceFileEntry + 24);
  std::string bad = file;
  bad[off_b + len_b - 1] ^= 0x55;
  std::string path = write("bad", bad);
  ProfileTraceIndex idx;
  Status s = read_profile_trace_file_one(path, id('b', 16), &idx);
  EXPECT_EQ(s.code(), Status::Code::kCorruption) << s.to_string();
  EXPECT_TRUE(read_profile_trace_file_one(path, id('a', 16), &idx).ok());
  EXPECT_EQ(parse_profile_trace_file(bad, &idx).code(), Status::Code::kCorruption);
  // A table claiming more entries than the file holds.
  std::string truncated = file.substr(0, kProfileTraceFileHeader + kProfileTraceFileEntry);
  EXPECT_EQ(parse_profile_trace_file(truncated, &idx).code(), Status::Code::kCorruption);
  EXPECT_EQ(read_profile_trace_file_one(write("short", truncated), id('a', 16), &idx).code(),
            Status::Code::kCorruption);
}

TEST_F(ProfileTraceFileTest, BlocksOfBothLayoutsAnswerTraceLookups) {
  ProfileSet set = sample_set();
  for (bool legacy : {false, true}) {
    SCOPED_TRACE(legacy ? "index inside profiles" : "profiles.traces");
    auto b = block(set, legacy ? 2 : 1, legacy);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->meta().file(kProfileTraceFileName) != nullptr, !legacy);
    EXPECT_TRUE(b->has_profiles());
    ProfileSet one;
    ASSERT_TRUE(b->read_trace_profiles(id('b', 16), &one).ok());
    EXPECT_EQ(one.size(), 0u);  // merged rows not read
    EXPECT_EQ(one.trace_index().trace_ids(), std::vector<std::string>{id('b', 16)});
    EXPECT_EQ(rows_of(one.trace_index(), 'b'), rows_of(set.trace_index(), 'b'));
    // Full reads (compaction input) get the merged rows and every trace.
    ProfileSet all;
    ASSERT_TRUE(b->read_profiles(&all).ok());
    EXPECT_EQ(all.size(), 1u);
    EXPECT_EQ(all.trace_index().trace_ids(), set.trace_index().trace_ids());
    for (char t : {'a', 'b', 'c'}) {
      EXPECT_EQ(rows_of(all.trace_index(), t), rows_of(set.trace_index(), t));
    }
    // Rewriting a full read (what compaction does) keeps the new layout.
    auto again = block(all, legacy ? 4 : 3, false);
    ProfileSet c;
    ASSERT_TRUE(again->read_trace_profiles(id('c', 16), &c).ok());
    EXPECT_EQ((rows_of(c.trace_index(), 'c')[{'1', "fc c.py:5"}]), 11);
    EXPECT_TRUE(again->verify().ok());
  }
}

}  // namespace
}  // namespace pyrometer::server::store
