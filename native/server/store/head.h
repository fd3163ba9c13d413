// Head: the in-memory, columnar store of recent data (spans, logs, metric
// points, rollups, merged profiles) that receives every append after the WAL
// made it durable, and is later frozen and written out as one block.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "common/otlp_model.h"
#include "server/store/head_trace_counts.h"
#include "server/store/profile_merge.h"
#include "server/store/rollup.h"
#include "server/store/store.h"
#include "server/store/table.h"

namespace pyrometer::server::store {

struct HeadInsertResult {
  int64_t accepted = 0;
  int64_t dropped = 0;          // spans over the per-trace limit
  int64_t newly_truncated = 0;  // traces that passed the limit in this call
};

// Thread-safe: inserts take an exclusive lock, reads a shared one. Visitors
// run without the lock (rows are copied out in chunks), so a slow reader
// never stalls ingest. Tables are append-only, so row indices are stable.
class Head {
 public:
  // Spans of one trace beyond the limit of `trace_counts` are dropped and the
  // trace gets one marker row. The counts are shared with the heads before and
  // after this one (EmbeddedStore passes the same table to every head), so a
  // trace arriving across a head cut is still limited. Not null.
  explicit Head(std::shared_ptr<TraceSpanCounts> trace_counts);
  // A head with its own count table (tests, benchmarks): the limit holds
  // within this head only.
  explicit Head(uint32_t max_spans_per_trace);

  HeadInsertResult insert_traces(const common::otlp::TracesRequest& req);
  int64_t insert_metrics(const common::otlp::MetricsRequest& req);
  int64_t insert_logs(const common::otlp::LogsRequest& req);
  Status insert_profile(std::string_view pprof, const ProfileLabels& labels);

  void find_trace(std::string_view trace_id, std::vector<SpanRow>* out) const;
  bool scan_spans(const SpanFilter& f, const std::function<bool(const SpanRow&)>& fn) const;
  bool scan_logs(const LogFilter& f, const std::function<bool(const LogRow&)>& fn) const;
  bool scan_metric_points(const MetricFilter& f,
                          const std::function<bool(const MetricPointRow&)>& fn) const;
  void collect_profiles(const ProfileFilter& f, std::vector<ProfileRow>* out) const;
  bool scan_rollups(const RollupFilter& f, const std::function<bool(const RollupRow&)>& fn) const;

  // Approximate heap bytes (lock-free read, updated after every insert).
  size_t bytes() const { return bytes_.load(std::memory_order_relaxed); }
  size_t span_rows() const { return span_rows_.load(std::memory_order_relaxed); }
  bool empty() const;

  // For the block writer: only call once the head is frozen (no more inserts).
  const Table& spans() const { return spans_; }
  const Table& logs() const { return logs_; }
  const Table& metrics() const { return metrics_; }
  const RollupSet& rollups() const { return rollups_; }
  const ProfileSet& profiles() const { return profiles_; }

 private:
  void update_bytes();  // REQUIRES(mu_)

  const std::shared_ptr<TraceSpanCounts> trace_counts_;
  mutable std::shared_mutex mu_;
  Table spans_;
  Table logs_;
  Table metrics_;
  RollupSet rollups_;
  ProfileSet profiles_;
  std::atomic<size_t> bytes_{0};
  std::atomic<size_t> span_rows_{0};
};

}  // namespace pyrometer::server::store
