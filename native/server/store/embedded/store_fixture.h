// Shared fixture of the EmbeddedStore tests: a temp data dir, a fake clock,
// no background thread (tests drive cuts, compaction and retention).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "common/pprof_codec.h"
#include "common/testing/otlp_samples.h"
#include "common/testing/pprof_samples.h"
#include "server/store/embedded/embedded_store.h"
#include "server/store/store_test_util.h"

namespace pyrometer::server::store::testing {

namespace fs = std::filesystem;
namespace otlp = common::otlp;

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

}  // namespace pyrometer::server::store::testing
