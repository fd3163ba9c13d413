// The per-trace profile index: span-labelled pprof samples are kept per
// (trace, span, type), survive serialize/parse and merging, stay bounded,
// and files without the section (older blocks) still parse.
#include "server/store/profile_trace_index.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "common/pprof_codec.h"
#include "common/pprof_model.h"
#include "server/store/profile_merge.h"
#include "server/store/rollup.h"

namespace pyrometer::server::store {
namespace {

namespace pprof = common::pprof;

constexpr uint64_t kT0 = 1700000000ull * 1000000000;
const std::string kTraceHex = "0af7651916cd43dd8448eb211c80319c";
const std::string kSpanA = "b7ad6b7169203331", kSpanB = "00f067aa0ba902b7";

std::string raw(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

// Functions: 1 main (app.py), 2 handler (app.py), 3 query (db.py). Samples:
// main>handler>query x3 on span A, main>handler x2 on span A, main>handler
// x5 on span B, one unlabelled sample, one with a malformed span id.
std::string labelled_profile() {
  pprof::Profile p;
  p.string_table = {"",        "samples", "count", "cpu",      "nanoseconds", "main",
                    "app.py",  "handler", "query", "db.py",    "trace_id",    "span_id",
                    kTraceHex, kSpanA,    kSpanB,  "nothex!!", "thread"};
  auto s = [&](const std::string& v) {
    for (size_t i = 0; i < p.string_table.size(); ++i)
      if (p.string_table[i] == v) return static_cast<int64_t>(i);
    p.string_table.push_back(v);
    return static_cast<int64_t>(p.string_table.size() - 1);
  };
  p.sample_type = {{s("samples"), s("count")}, {s("cpu"), s("nanoseconds")}};
  p.function = {{1, s("main"), 0, s("app.py"), 1},
                {2, s("handler"), 0, s("app.py"), 10},
                {3, s("query"), 0, s("db.py"), 5}};
  p.location = {
      {1, 0, 0, {{1, 3, 0}}, false}, {2, 0, 0, {{2, 12, 0}}, false}, {3, 0, 0, {{3, 7, 0}}, false}};
  auto labels = [&](const std::string& span) {
    return std::vector<pprof::Label>{{s("trace_id"), s(kTraceHex), 0, 0},
                                     {s("span_id"), s(span), 0, 0},
                                     {s("thread"), s("thread"), 0, 0}};
  };
  p.sample = {{{3, 2, 1}, {3, 30000000}, labels(kSpanA)},
              {{2, 1}, {2, 20000000}, labels(kSpanA)},
              {{2, 1}, {5, 50000000}, labels(kSpanB)},
              {{1}, {7, 70000000}, {}},
              {{1}, {1, 10000000}, labels("nothex!!")}};
  std::string out;
  pprof::encode_profile(p, &out);
  return out;
}

std::map<std::string, std::map<std::string, int64_t>> by_span(const std::vector<ProfileRow>& rows) {
  std::map<std::string, std::map<std::string, int64_t>> out;
  for (const auto& r : rows) {
    EXPECT_EQ(r.trace_id, raw(kTraceHex));
    EXPECT_EQ(r.value_types, std::vector<std::string>{"samples/count"});
    for (const auto& s : r.samples) {
      std::string stack;
      for (const auto& f : s.frames) stack += (stack.empty() ? "" : ";") + f;
      out[r.span_id][stack] += s.values.at(0);
    }
  }
  return out;
}

ProfileFilter trace_filter() {
  ProfileFilter f;
  f.trace_id = raw(kTraceHex);
  return f;
}

void expect_indexed(const ProfileSet& set, int times) {
  std::vector<ProfileRow> rows;
  set.collect(trace_filter(), &rows);
  ASSERT_EQ(rows.size(), 2u);
  auto got = by_span(rows);
  EXPECT_EQ(got[raw(kSpanA)]["main app.py:3;handler app.py:12;query db.py:7"], 3 * times);
  EXPECT_EQ(got[raw(kSpanA)]["main app.py:3;handler app.py:12"], 2 * times);
  EXPECT_EQ(got[raw(kSpanB)]["main app.py:3;handler app.py:12"], 5 * times);
  EXPECT_EQ(got[raw(kSpanA)].size() + got[raw(kSpanB)].size(), 3u);
  EXPECT_EQ(rows[0].service, "shop");
  EXPECT_EQ(rows[0].profile_type, "cpu");
}

TEST(ProfileTraceIndex, LabelledSamplesAreKeptPerSpan) {
  ProfileSet set;
  ASSERT_TRUE(set.add_pprof(labelled_profile(), {"shop", "w1", "/pay", "cpu", kT0 + 5}).ok());
  expect_indexed(set, 1);
  EXPECT_EQ(set.unindexed_samples(), 1u);  // the malformed span id
  // The merged rows still hold every sample, labelled or not.
  std::vector<ProfileRow> rows;
  set.collect({}, &rows);
  ASSERT_EQ(rows.size(), 1u);
  int64_t total = 0;
  for (const auto& s : rows[0].samples) total += s.values[0];
  EXPECT_EQ(total, 3 + 2 + 5 + 7 + 1);
  EXPECT_TRUE(rows[0].trace_id.empty());
  // An unknown trace yields nothing.
  ProfileFilter other;
  other.trace_id = std::string(16, '\x01');
  rows.clear();
  set.collect(other, &rows);
  EXPECT_TRUE(rows.empty());
}

TEST(ProfileTraceIndex, SurvivesSerializeParseAndMerging) {
  ProfileSet set;
  ASSERT_TRUE(set.add_pprof(labelled_profile(), {"shop", "w1", "/pay", "cpu", kT0}).ok());
  std::string file;
  set.serialize(&file);
  ProfileSet back;
  ASSERT_TRUE(back.parse(file).ok());
  expect_indexed(back, 1);
  // The compactor parses several blocks' files into one set: counts add.
  ASSERT_TRUE(back.parse(file).ok());
  expect_indexed(back, 2);
  ProfileSet all;
  all.merge_all(back);
  all.merge_all(set);
  expect_indexed(all, 3);
  // Reads merge rows from several blocks and heads.
  std::vector<ProfileRow> rows;
  set.collect(trace_filter(), &rows);
  back.collect(trace_filter(), &rows);
  merge_profile_rows(&rows);
  EXPECT_EQ(rows.size(), 2u);
  auto got = by_span(rows);
  EXPECT_EQ(got[raw(kSpanB)]["main app.py:3;handler app.py:12"], 15);
}

TEST(ProfileTraceIndex, TraceOnlyReadsSkipTheMergedRows) {
  ProfileSet set;
  ASSERT_TRUE(set.add_pprof(labelled_profile(), {"shop", "w1", "/pay", "cpu", kT0}).ok());
  std::string file;
  set.serialize(&file);
  ASSERT_EQ(file[0], '\0');  // v2
  ProfileSet only;
  only.set_trace_only(raw(kTraceHex));
  ASSERT_TRUE(only.parse(file).ok());
  EXPECT_EQ(only.size(), 0u);
  expect_indexed(only, 1);
  ProfileSet other;
  other.set_trace_only(std::string(16, 'x'));
  ASSERT_TRUE(other.parse(file).ok());
  std::vector<ProfileRow> rows;
  other.collect(trace_filter(), &rows);
  EXPECT_TRUE(rows.empty());
}

TEST(ProfileTraceIndex, VersionOneFilesStillParse) {
  // The layout written before v2: dictionary, then the rows, nothing else.
  Dictionary dict;
  uint32_t frame = dict.intern("f x.py:2");
  std::string d, v1;
  dict.serialize(&d);
  put_bytes(&v1, d);
  put_varint(&v1, 1);  // one row
  put_varint(&v1, kT0 / kMinuteNanos);
  put_bytes(&v1, "s");
  put_bytes(&v1, "/");
  put_bytes(&v1, "cpu");
  put_varint(&v1, 3);  // uploads
  put_varint(&v1, 1);
  put_bytes(&v1, "samples/count");
  put_varint(&v1, 1);  // one stack
  put_varint(&v1, 1);
  put_varint(&v1, frame);
  put_varint(&v1, 1);
  put_varint(&v1, zigzag(4));
  ProfileSet back;
  ASSERT_TRUE(back.parse(v1).ok());
  std::vector<ProfileRow> rows;
  back.collect({}, &rows);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].uploads, 3);
  EXPECT_EQ(rows[0].samples.at(0).frames, std::vector<std::string>{"f x.py:2"});
  EXPECT_EQ(rows[0].samples.at(0).values, std::vector<int64_t>{4});
}

TEST(ProfileTraceIndex, FilesWithoutTheSectionStillParse) {
  pprof::Profile p;
  p.string_table = {"", "samples", "count", "f", "x.py"};
  p.sample_type = {{1, 2}};
  p.function = {{1, 3, 0, 4, 1}};
  p.location = {{1, 0, 0, {{1, 2, 0}}, false}};
  p.sample = {{{1}, {4}, {}}};
  std::string pb;
  pprof::encode_profile(p, &pb);
  ProfileSet set;
  ASSERT_TRUE(set.add_pprof(pb, {"s", "i", "/", "cpu", kT0}).ok());
  std::string file;
  set.serialize(&file);
  ProfileSet back;
  ASSERT_TRUE(back.parse(file).ok());
  std::vector<ProfileRow> rows;
  back.collect({}, &rows);
  ASSERT_EQ(rows.size(), 1u);
  // A damaged section is corruption, not silently ignored.
  ProfileSet labelled;
  ASSERT_TRUE(labelled.add_pprof(labelled_profile(), {"s", "i", "/", "cpu", kT0}).ok());
  std::string full;
  labelled.serialize(&full);
  ProfileSet broken;
  EXPECT_EQ(broken.parse(full.substr(0, full.size() - 3)).code(),
            common::Status::Code::kCorruption);
}

TEST(ProfileTraceIndex, BoundedPerSpanAndPerTrace) {
  ProfileTraceIndex index;
  std::string trace(16, 'T'), span(8, 'S');
  for (size_t i = 0; i < kProfileMaxStacksPerSpan + 10; ++i) {
    ASSERT_TRUE(index.add(trace, span, "svc", "cpu", kT0, "f x.py:" + std::to_string(i), 1));
  }
  std::vector<ProfileRow> rows;
  index.collect(trace, "", &rows);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].samples.size(), kProfileMaxStacksPerSpan + 1);  // + "[truncated]"
  int64_t truncated = 0;
  for (const auto& s : rows[0].samples)
    if (s.frames == std::vector<std::string>{"[truncated]"}) truncated = s.values[0];
  EXPECT_EQ(truncated, 10);
  auto id8 = [](uint32_t i) {
    std::string s(8, '\0');
    std::memcpy(s.data(), &i, sizeof i);
    return s;
  };
  for (uint32_t i = 1; i < kProfileMaxSpansPerTrace; ++i) {
    ASSERT_TRUE(index.add(trace, id8(i), "svc", "cpu", kT0, "f", 1)) << i;
  }
  EXPECT_FALSE(index.add(trace, id8(99999), "svc", "cpu", kT0, "f", 1));
  EXPECT_TRUE(index.add(trace, span, "svc", "cpu", kT0, "g", 1));  // known span: still counted
  for (uint32_t i = 1; i < kProfileMaxTraces; ++i) {
    ASSERT_TRUE(index.add(id8(i) + id8(i), span, "svc", "cpu", kT0, "f", 1)) << i;
  }
  EXPECT_FALSE(index.add(std::string(16, 'N'), span, "svc", "cpu", kT0, "f", 1));
}

}  // namespace
}  // namespace pyrometer::server::store
