// Tests of the version-2 block layout: time segments, the span page index,
// paged scans (window boundaries, empty selections, span classes, trace-id
// sets), segment blooms in find_trace, reading version-1 blocks, and CRC
// failures of pages and of the page index reported as Corruption.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "server/store/block_page_index.h"
#include "server/store/block_reader.h"
#include "server/store/block_writer.h"
#include "server/store/column_file.h"
#include "server/store/file_ops.h"
#include "server/store/span_table.h"
#include "server/store/store_test_util.h"

namespace pyrometer::server::store::testing {
namespace {

namespace fs = std::filesystem;
constexpr uint64_t kT0 = 1'700'000'000'000'000'000ull;

// Spans of `traces` web traces (3 spans each: root, DB, cache) per service,
// every 100th trace with an exception event on its root.
void fill(Table* t, int traces, const std::vector<std::string>& services) {
  for (size_t si = 0; si < services.size(); ++si) {
    otlp::TracesRequest req;
    web_traces(&req, 1 + si * 1'000'000, traces, 3, kT0 + si * 7'000, services[si],
               static_cast<uint32_t>(si + 1));
    for (auto& rs : req.resource_spans) {
      for (auto& ss : rs.scope_spans) {
        for (size_t i = 0; i < ss.spans.size(); i += 300) {
          otlp::SpanEvent ev;
          ev.name = "exception";
          ev.time_unix_nano = ss.spans[i].start_time_unix_nano;
          ev.attributes.push_back(kv(&req.arena, "exception.type", "ValueError"));
          ss.spans[i].events.push_back(ev);
        }
        SpanContextIds ids = intern_span_context(t, rs.resource, ss.scope);
        for (const auto& sp : ss.spans) append_span(t, sp, ids);
      }
    }
  }
}

class BlockScanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/pyrometer-blockscan-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::shared_ptr<Block> write(const Table& spans, uint64_t id, uint16_t version) {
    BlockInput in;
    in.spans = &spans;
    in.format_version = version;
    BlockMeta meta;
    Status s = write_block(dir_, id, in, FileOps::real().get(), &meta);
    EXPECT_TRUE(s.ok()) << s.to_string();
    std::shared_ptr<Block> b;
    s = Block::open(dir_ + "/" + block_dir_name(id), &b);
    EXPECT_TRUE(s.ok()) << s.to_string();
    return b;
  }

  // Every matching row of `t` by brute force, as (trace id, span id) pairs.
  static std::multiset<std::string> expected(const Table& t, const SpanFilter& f) {
    ResolvedSpanFilter rf = resolve_span_filter(t, f);
    std::multiset<std::string> out;
    for (size_t r = 0; r < t.rows(); ++r) {
      if (span_matches(t, r, rf)) {
        out.insert(std::string(t.fixed_at(kSpanTraceId, r)) +
                   std::string(t.fixed_at(kSpanSpanId, r)));
      }
    }
    return out;
  }
  static std::multiset<std::string> scanned(const Block& b, const SpanFilter& f,
                                            Status* status = nullptr) {
    std::multiset<std::string> out;
    bool stopped = false;
    Status s = b.scan_spans(
        f,
        [&](const SpanRow& r) {
          out.insert(r.trace_id + r.span_id);
          return true;
        },
        &stopped);
    if (status != nullptr) {
      *status = s;
    } else {
      EXPECT_TRUE(s.ok()) << s.to_string();
    }
    EXPECT_FALSE(stopped);
    return out;
  }

  std::string dir_;
};

TEST_F(BlockScanTest, PageIndexRoundTripsAndDetectsCorruption) {
  Table t(&span_schema());
  fill(&t, 3000, {"api", "worker"});
  std::vector<uint64_t> classes;
  for (size_t r = 0; r < t.rows(); ++r) classes.push_back(span_classes(t, r));
  SpanPageIndex idx = SpanPageIndex::build(t, classes, 4096);
  ASSERT_EQ(idx.pages().size(), (t.rows() + 4095) / 4096);
  std::string buf;
  idx.serialize(&buf);
  SpanPageIndex back;
  ASSERT_TRUE(back.parse(buf).ok());
  EXPECT_EQ(back.pages(), idx.pages());
  uint64_t bit_api = 0, bit_worker = 0;
  uint32_t id = 0;
  ASSERT_TRUE(back.service("api", &bit_api, &id));
  EXPECT_EQ(t.dict().at(id), "api");
  ASSERT_TRUE(back.service("worker", &bit_worker, &id));
  EXPECT_NE(bit_api, bit_worker);
  EXPECT_FALSE(back.service("nope", &bit_api, &id));
  for (size_t i = 0; i < buf.size(); i += 7) {
    std::string bad = buf;
    bad[i] = static_cast<char>(bad[i] ^ 0x20);
    SpanPageIndex x;
    Status s = x.parse(bad);
    EXPECT_EQ(s.code(), Status::Code::kCorruption) << "byte " << i;
  }
}

TEST_F(BlockScanTest, WindowBoundariesMatchBruteForce) {
  Table t(&span_schema());
  fill(&t, 30000, {"api", "worker", "billing"});  // 270k spans: 5 segments
  auto b = write(t, 1, kBlockMetaVersion);
  ASSERT_TRUE(b);
  ASSERT_EQ(b->meta().version, 2);
  const auto& pages = b->page_index().pages();
  ASSERT_EQ(pages.size(), (t.rows() + kPageRows - 1) / kPageRows);
  // Segments are in time order: page fences never go back in time across them.
  const size_t seg = kSpanSegmentPages;
  for (size_t p = seg; p < pages.size(); p += seg) {
    EXPECT_GE(pages[p].min_start, pages[p - 1].max_start) << p;
  }
  std::vector<std::pair<uint64_t, uint64_t>> windows = {
      {0, UINT64_MAX},
      {pages[seg].min_start, pages[2 * seg].min_start},          // exactly one segment
      {pages[seg].min_start + 1, pages[2 * seg].min_start + 1},  // shifted by 1 ns
      {pages[seg].max_start, pages[seg].max_start + 1},          // one instant
      {kT0 + 5'000'000'000ull, kT0 + 5'000'000'000ull + 300'000'000ull},
      {pages.back().max_start, UINT64_MAX},      // last span only
      {pages.back().max_start + 1, UINT64_MAX},  // after the data
      {0, pages[0].min_start},                   // before the data
  };
  for (const auto& [lo, hi] : windows) {
    SpanFilter f;
    f.start_unix_nano = lo;
    f.end_unix_nano = hi;
    auto want = expected(t, f);
    EXPECT_EQ(scanned(*b, f), want) << lo << ".." << hi;
    f.service = "worker";
    EXPECT_EQ(scanned(*b, f), expected(t, f)) << "worker " << lo << ".." << hi;
  }
  uint64_t newest = 0;
  for (const auto& p : pages) newest = std::max(newest, p.max_start);
  SpanFilter last;
  last.start_unix_nano = newest;
  EXPECT_GE(scanned(*b, last).size(), 1u);
  SpanFilter after;
  after.start_unix_nano = newest + 1;
  EXPECT_TRUE(scanned(*b, after).empty());
}

TEST_F(BlockScanTest, ClassesServicesAndTraceSetsMatchBruteForce) {
  Table t(&span_schema());
  fill(&t, 20000, {"api", "worker"});
  auto b = write(t, 2, kBlockMetaVersion);
  ASSERT_TRUE(b);
  TraceIdSet ids;
  for (uint64_t n : {5ull, 77ull, 19999ull, 1'000'123ull}) ids.insert(trace_id(n));
  std::vector<SpanFilter> filters(8);
  filters[0].any_of = kSpanClassError;
  filters[1].any_of = kSpanClassEvents;
  filters[2].any_of = kSpanClassDb;
  filters[2].service = "api";
  filters[3].any_of = kSpanClassEntry;
  filters[3].trace_ids = &ids;
  filters[4].trace_ids = &ids;
  filters[5].service = "absent";
  filters[6].name = "GET /orders";
  filters[6].start_unix_nano = kT0 + 3'000'000'000ull;
  filters[7].route = "/health";
  filters[7].any_of = kSpanClassError | kSpanClassEntry;
  for (size_t i = 0; i < filters.size(); ++i) {
    auto want = expected(t, filters[i]);
    EXPECT_EQ(scanned(*b, filters[i]), want) << "filter " << i;
    if (i != 5) EXPECT_FALSE(want.empty()) << "filter " << i;
  }
  // ids_only visits the same rows, carrying their trace id and start.
  for (size_t i : {0, 3, 4}) {
    SpanFilter ids_only = filters[i];
    ids_only.ids_only = true;
    std::multiset<std::string> want, got;
    bool stopped = false;
    ASSERT_TRUE(b->scan_spans(
                     filters[i],
                     [&](const SpanRow& r) {
                       want.insert(r.trace_id + std::to_string(r.start_time_unix_nano));
                       return true;
                     },
                     &stopped)
                    .ok());
    ASSERT_TRUE(b->scan_spans(
                     ids_only,
                     [&](const SpanRow& r) {
                       got.insert(r.trace_id + std::to_string(r.start_time_unix_nano));
                       return true;
                     },
                     &stopped)
                    .ok());
    EXPECT_EQ(got, want) << "filter " << i;
  }
  // A class no row has selects no page at all.
  Table plain(&span_schema());
  otlp::TracesRequest req;
  web_traces(&req, 1, 2000, 1, kT0);  // roots only: no DB span, no event
  SpanContextIds cids = intern_span_context(&plain, req.resource_spans[0].resource,
                                            req.resource_spans[0].scope_spans[0].scope);
  for (const auto& sp : req.resource_spans[0].scope_spans[0].spans) append_span(&plain, sp, cids);
  auto pb = write(plain, 3, kBlockMetaVersion);
  ASSERT_TRUE(pb);
  for (const auto& p : pb->page_index().pages()) EXPECT_EQ(p.classes & kSpanClassDb, 0u);
  SpanFilter db;
  db.any_of = kSpanClassDb | kSpanClassEvents;
  EXPECT_TRUE(scanned(*pb, db).empty());
}

TEST_F(BlockScanTest, FindTraceAcrossSegmentsAndVersions) {
  Table t(&span_schema());
  fill(&t, 30000, {"api", "worker"});
  auto v2 = write(t, 4, kBlockMetaVersion);
  auto v1 = write(t, 5, 1);
  ASSERT_TRUE(v2 && v1);
  EXPECT_EQ(v1->meta().version, 1);
  EXPECT_TRUE(v1->page_index().pages().empty());
  std::map<std::string, size_t> spans_per_trace;
  for (size_t r = 0; r < t.rows(); ++r) spans_per_trace[std::string(t.fixed_at(kSpanTraceId, r))]++;
  size_t checked = 0;
  for (const auto& [id, n] : spans_per_trace) {
    if (checked++ % 97 != 0) continue;
    std::vector<SpanRow> a, b;
    ASSERT_TRUE(v2->find_trace(id, &a).ok());
    ASSERT_TRUE(v1->find_trace(id, &b).ok());
    ASSERT_EQ(a.size(), n);
    EXPECT_EQ(a, b);
  }
  // Traces cut by a segment boundary (its spans in two segments) are whole.
  const auto& pages = v2->page_index().pages();
  uint64_t edge = pages[kSpanSegmentPages].min_start;
  SpanFilter around;
  around.start_unix_nano = edge - 40'000'000;
  around.end_unix_nano = edge + 40'000'000;
  std::set<std::string> near;
  scanned(*v2, around);
  bool stopped;
  ASSERT_TRUE(
      v2->scan_spans(
            around, [&](const SpanRow& r) { return near.insert(r.trace_id), true; }, &stopped)
          .ok());
  for (const auto& id : near) {
    std::vector<SpanRow> rows;
    ASSERT_TRUE(v2->find_trace(id, &rows).ok());
    EXPECT_EQ(rows.size(), spans_per_trace[id]);
  }
  // Same rows from either version, whatever the filter.
  SpanFilter f;
  f.start_unix_nano = kT0 + 10'000'000'000ull;
  f.end_unix_nano = kT0 + 12'000'000'000ull;
  f.service = "api";
  f.any_of = kSpanClassDb;
  EXPECT_EQ(scanned(*v2, f), scanned(*v1, f));
  EXPECT_EQ(scanned(*v1, f), expected(t, f));
  // A missing trace is not found.
  std::vector<SpanRow> none;
  ASSERT_TRUE(v2->find_trace(trace_id(999'999'999), &none).ok());
  EXPECT_TRUE(none.empty());
}

TEST_F(BlockScanTest, VisitorStopEndsTheScan) {
  Table t(&span_schema());
  fill(&t, 5000, {"api"});
  auto b = write(t, 6, kBlockMetaVersion);
  ASSERT_TRUE(b);
  size_t n = 0;
  bool stopped = false;
  ASSERT_TRUE(b->scan_spans(
                   {}, [&](const SpanRow&) { return ++n < 10; }, &stopped)
                  .ok());
  EXPECT_TRUE(stopped);
  EXPECT_EQ(n, 10u);
}

void flip(const std::string& path, size_t at) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(at));
  char c;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x04);
  f.seekp(static_cast<std::streamoff>(at));
  f.write(&c, 1);
}

TEST_F(BlockScanTest, CorruptPageIsReportedAsCorruption) {
  Table t(&span_schema());
  fill(&t, 25000, {"api"});  // 75k spans: 2 segments
  auto b = write(t, 7, kBlockMetaVersion);
  ASSERT_TRUE(b);
  // Flip a byte in the last page of the attribute column: a scan of the whole
  // block fails there with Corruption; a window before that page still reads.
  std::string attrs = b->dir() + "/spans.attrs";
  flip(attrs, fs::file_size(attrs) - 5);
  Status s;
  scanned(*b, {}, &s);
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_NE(s.message().find("checksum"), std::string::npos) << s.to_string();
  SpanFilter early;
  early.end_unix_nano = b->page_index().pages()[0].max_start;
  auto rows = scanned(*b, early);
  EXPECT_EQ(rows, expected(t, early));
  // A flipped byte in the page index or the classes column fails the open.
  for (const char* name : {"spans.page_index", "spans.classes"}) {
    auto c = write(t, 8, kBlockMetaVersion);
    ASSERT_TRUE(c);
    std::string path = c->dir() + "/" + name;
    flip(path, fs::file_size(path) / 2);
    std::shared_ptr<Block> reopened;
    Status os = Block::open(c->dir(), &reopened);
    EXPECT_EQ(os.code(), Status::Code::kCorruption) << name;
    remove_dir(c->dir());
  }
}

TEST_F(BlockScanTest, SkippedFieldsAreLeftEmptyAndTheRestIsWhole) {
  Table t(&span_schema());
  fill(&t, 3000, {"api"});
  auto b = write(t, 9, kBlockMetaVersion);
  ASSERT_TRUE(b);
  std::vector<SpanRow> full, light;
  bool stopped = false;
  SpanFilter f;
  ASSERT_TRUE(b->scan_spans(
                   f, [&](const SpanRow& r) { return full.push_back(r), true; }, &stopped)
                  .ok());
  f.skip_fields = kSpanFieldResource | kSpanFieldExtras | kSpanFieldScope;
  ASSERT_TRUE(b->scan_spans(
                   f, [&](const SpanRow& r) { return light.push_back(r), true; }, &stopped)
                  .ok());
  ASSERT_EQ(full.size(), light.size());
  size_t with_events = 0;
  for (size_t i = 0; i < full.size(); ++i) {
    with_events += !full[i].events.empty();
    SpanRow want = full[i];
    want.resource_attributes.clear();
    want.events.clear();
    want.links.clear();
    want.scope_name.clear();
    want.scope_version.clear();
    EXPECT_EQ(light[i], want);
  }
  EXPECT_GT(with_events, 0u);
}

}  // namespace
}  // namespace pyrometer::server::store::testing
