// Head implementation. find_trace in the head is a linear scan of the
// trace-id column (16-byte compares, ~1 ms per 100k spans): cheaper in memory
// than a per-trace row list, and the head is bounded by --max-memory.
#include "server/store/head.h"

#include <algorithm>
#include <cstring>
#include <mutex>

#include "server/store/log_table.h"
#include "server/store/metric_table.h"
#include "server/store/span_table.h"

namespace pyrometer::server::store {
namespace {
constexpr size_t kChunk = 4096;  // rows copied out per lock hold during scans

// Runs `fn` over matching rows in chunks: rows are materialised under the
// shared lock, visited after releasing it.
template <typename Row, typename Match, typename Make>
bool chunked_scan(std::shared_mutex& mu, const Table& t, Match match, Make make,
                  const std::function<bool(const Row&)>& fn) {
  size_t next = 0;
  std::vector<Row> rows;
  for (;;) {
    rows.clear();
    {
      std::shared_lock<std::shared_mutex> lock(mu);
      size_t n = t.rows();
      if (next >= n) return true;
      size_t end = std::min(n, next + kChunk);
      for (size_t r = next; r < end; ++r) {
        if (!match(r)) continue;
        rows.emplace_back();
        if (!make(r, &rows.back()).ok()) rows.pop_back();
      }
      next = end;
    }
    for (const auto& row : rows) {
      if (!fn(row)) return false;
    }
  }
}
}  // namespace

// A private table for a standalone head: room for ~5,000 traces per generation.
constexpr size_t kStandaloneTraceCountBytes = 256 << 10;

Head::Head(uint32_t max_spans_per_trace)
    : Head(std::make_shared<TraceSpanCounts>(max_spans_per_trace, kStandaloneTraceCountBytes)) {}

Head::Head(std::shared_ptr<TraceSpanCounts> trace_counts)
    : trace_counts_(std::move(trace_counts)),
      spans_(&span_schema()),
      logs_(&log_schema()),
      metrics_(&metric_schema()) {
  update_bytes();
}

void Head::update_bytes() {
  size_t b =
      spans_.bytes() + logs_.bytes() + metrics_.bytes() + rollups_.bytes() + profiles_.bytes();
  bytes_.store(b, std::memory_order_relaxed);
  span_rows_.store(spans_.rows(), std::memory_order_relaxed);
}

bool Head::empty() const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  return spans_.rows() == 0 && logs_.rows() == 0 && metrics_.rows() == 0 && rollups_.size() == 0 &&
         profiles_.size() == 0;
}

HeadInsertResult Head::insert_traces(const common::otlp::TracesRequest& req) {
  HeadInsertResult res;
  std::unique_lock<std::shared_mutex> lock(mu_);
  // Inserts into one head are serialized by mu_, and a cut swaps heads under
  // the store's exclusive cut lock, so this lock is never contended; it keeps
  // the shared table safe for callers that do not go through the store.
  std::lock_guard<std::mutex> counts_lock(trace_counts_->mu());
  for (const auto& rs : req.resource_spans) {
    for (const auto& ss : rs.scope_spans) {
      SpanContextIds ids = intern_span_context(&spans_, rs.resource, ss.scope);
      for (const auto& span : ss.spans) {
        TraceSpanCounts::Verdict v = trace_counts_->add_span(span.trace_id);
        if (v != TraceSpanCounts::Verdict::kAccept) {
          res.dropped++;
          if (v == TraceSpanCounts::Verdict::kTruncateFirst) {
            res.newly_truncated++;
            append_truncation_marker(&spans_, span.trace_id, span.start_time_unix_nano, ids.service,
                                     ids.resource);
          }
          continue;
        }
        append_span(&spans_, span, ids);
        res.accepted++;
      }
    }
  }
  // Rollups count every span, including ones dropped by the trace limit:
  // RED must stay exact even when a runaway trace is truncated.
  rollups_.add_traces(req);
  update_bytes();
  return res;
}

int64_t Head::insert_metrics(const common::otlp::MetricsRequest& req) {
  std::unique_lock<std::shared_mutex> lock(mu_);
  int64_t n = append_metrics(&metrics_, req);
  rollups_.add_metrics(req);
  update_bytes();
  return n;
}

int64_t Head::insert_logs(const common::otlp::LogsRequest& req) {
  std::unique_lock<std::shared_mutex> lock(mu_);
  int64_t n = append_logs(&logs_, req);
  update_bytes();
  return n;
}

Status Head::insert_profile(std::string_view pprof, const ProfileLabels& labels) {
  std::unique_lock<std::shared_mutex> lock(mu_);
  Status s = profiles_.add_pprof(pprof, labels);
  update_bytes();
  return s;
}

void Head::find_trace(std::string_view trace_id, std::vector<SpanRow>* out) const {
  if (trace_id.size() != 16) return;
  std::shared_lock<std::shared_mutex> lock(mu_);
  const std::string& ids = spans_.col(kSpanTraceId).bytes;
  for (size_t r = 0, n = spans_.rows(); r < n; ++r) {
    if (std::memcmp(ids.data() + r * 16, trace_id.data(), 16) != 0) continue;
    SpanRow row;
    if (materialize_span(spans_, r, &row).ok()) out->push_back(std::move(row));
  }
}

bool Head::scan_spans(const SpanFilter& f, const std::function<bool(const SpanRow&)>& fn) const {
  ResolvedSpanFilter rf;
  size_t dict_size;
  {
    std::shared_lock<std::shared_mutex> lock(mu_);
    rf = resolve_span_filter(spans_, f);
    dict_size = spans_.dict().size();
  }
  // A string missing now may be interned by a later insert: re-resolve when
  // the dictionary grew (matching runs under the head's shared lock).
  return chunked_scan<SpanRow>(
      mu_, spans_,
      [&](size_t r) {
        if (rf.impossible) {
          if (spans_.dict().size() == dict_size) return false;
          rf = resolve_span_filter(spans_, f);
          dict_size = spans_.dict().size();
        }
        return span_matches(spans_, r, rf);
      },
      [&](size_t r, SpanRow* row) { return materialize_span(spans_, r, row); }, fn);
}

bool Head::scan_logs(const LogFilter& f, const std::function<bool(const LogRow&)>& fn) const {
  return chunked_scan<LogRow>(
      mu_, logs_, [&](size_t r) { return log_matches(logs_, r, f); },
      [&](size_t r, LogRow* row) { return materialize_log(logs_, r, row); }, fn);
}

bool Head::scan_metric_points(const MetricFilter& f,
                              const std::function<bool(const MetricPointRow&)>& fn) const {
  return chunked_scan<MetricPointRow>(
      mu_, metrics_, [&](size_t r) { return metric_matches(metrics_, r, f); },
      [&](size_t r, MetricPointRow* row) { return materialize_metric(metrics_, r, row); }, fn);
}

void Head::collect_profiles(const ProfileFilter& f, std::vector<ProfileRow>* out) const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  profiles_.collect(f, out);
}

bool Head::scan_rollups(const RollupFilter& f,
                        const std::function<bool(const RollupRow&)>& fn) const {
  std::vector<RollupRow> rows;
  {
    std::shared_lock<std::shared_mutex> lock(mu_);
    rollups_.visit(f, [&](const RollupRow& r) {
      rows.push_back(r);
      return true;
    });
  }
  for (const auto& r : rows) {
    if (!fn(r)) return false;
  }
  return true;
}

}  // namespace pyrometer::server::store
