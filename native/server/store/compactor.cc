// Compaction planning and merging.
#include "server/store/compactor.h"

#include <algorithm>

#include "server/store/block_writer.h"
#include "server/store/log_table.h"
#include "server/store/metric_table.h"
#include "server/store/span_table.h"

namespace pyrometer::server::store {

std::vector<std::vector<std::shared_ptr<Block>>> plan_compactions(
    const std::vector<std::shared_ptr<Block>>& blocks, const CompactionLimits& limits) {
  std::vector<std::shared_ptr<Block>> sorted = blocks;
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return a->meta().min_time != b->meta().min_time ? a->meta().min_time < b->meta().min_time
                                                    : a->id() < b->id();
  });
  std::vector<std::vector<std::shared_ptr<Block>>> plans;
  std::vector<std::shared_ptr<Block>> run;
  uint64_t rows = 0, lo = 0, hi = 0;
  // A run still open to new blocks is merged only once it has
  // kMinOpenRunBlocks: merging each new block into the run at once rewrote
  // the run's oldest rows once per block (write amplification ~N/2 for N
  // blocks: the largest CPU cost of the server under bench/ingest.py).
  auto flush = [&](bool closed) {
    if (run.size() >= 2 && (closed || run.size() >= kMinOpenRunBlocks)) plans.push_back(run);
    run.clear();
    rows = 0;
  };
  for (const auto& b : sorted) {
    const BlockMeta& m = b->meta();
    uint64_t nlo = run.empty() ? m.min_time : std::min(lo, m.min_time);
    uint64_t nhi = run.empty() ? m.max_time : std::max(hi, m.max_time);
    bool fits =
        rows + m.span_rows <= limits.max_span_rows && nhi - nlo <= limits.max_duration_nanos;
    if (!fits) flush(/*closed=*/true);
    // A block already at the limits is left alone.
    if (m.span_rows >= limits.max_span_rows ||
        m.max_time - m.min_time >= limits.max_duration_nanos) {
      continue;
    }
    if (run.empty()) {
      nlo = m.min_time;
      nhi = m.max_time;
    }
    run.push_back(b);
    rows += m.span_rows;
    lo = nlo;
    hi = nhi;
  }
  flush(/*closed=*/false);
  return plans;
}

Status merge_blocks(const std::string& blocks_dir, uint64_t id,
                    const std::vector<std::shared_ptr<Block>>& inputs, FileOps* ops,
                    BlockMeta* meta) {
  Table spans(&span_schema()), logs(&log_schema()), metrics(&metric_schema());
  RollupSet rollups;
  ProfileSet profiles;
  BlockInput in;
  for (const auto& b : inputs) {
    struct Part {
      BlockTable which;
      Table* into;
      const TableSchema* schema;
    };
    for (Part p : {Part{BlockTable::kSpans, &spans, &span_schema()},
                   Part{BlockTable::kLogs, &logs, &log_schema()},
                   Part{BlockTable::kMetrics, &metrics, &metric_schema()}}) {
      Table t(p.schema);
      Status s = b->read_table(p.which, &t);
      for (size_t r = 0; s.ok() && r < t.rows(); ++r) s = p.into->append_from(t, r);
      if (!s.ok()) return s;
    }
    Status s = b->read_rollups(&rollups);
    if (s.ok()) s = b->read_profiles(&profiles);
    if (!s.ok()) return s;
    in.wal_seq_end = std::max(in.wal_seq_end, b->meta().wal_seq_end);
    in.parents.push_back(b->id());
  }
  in.spans = &spans;
  in.logs = &logs;
  in.metrics = &metrics;
  in.rollups = &rollups;
  in.profiles = &profiles;
  return write_block(blocks_dir, id, in, ops, meta);
}

}  // namespace pyrometer::server::store
