// EmbeddedStore: the Store on local disk, no external database — a WAL with
// group commit, an in-memory columnar head, immutable compressed blocks,
// per-minute rollups, retention and compaction. Layout: docs/storage-format.md.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "server/store/block_reader.h"
#include "server/store/file_ops.h"
#include "server/store/group_commit.h"
#include "server/store/head.h"
#include "server/store/store.h"

namespace pyrometer::server::store {

struct StoreOptions {
  std::string data_dir;  // created if missing; holds wal/, blocks/, rollups/
  // Raw data (spans, logs, metric points, profiles) older than this is deleted
  // block by block. 0 = keep forever.
  std::chrono::nanoseconds retention = std::chrono::hours(24 * 7);
  // Rollups live far longer than raw data.
  std::chrono::nanoseconds rollup_retention = std::chrono::hours(24 * 90);
  // Rollup files (rollups/, one per block deleted by retention) whose newest
  // minute falls in the same UTC window of this length are merged into one
  // file once the window is over. 0 = never merge.
  std::chrono::nanoseconds rollup_merge_window = std::chrono::hours(24);
  // Disk budget for blocks + WAL; oldest blocks are deleted past it. 0 = none.
  uint64_t max_disk_bytes = 0;
  // Hard bound on head + frozen heads + queued WAL bytes; past it appends
  // return Unavailable (HTTP 429/503 + Retry-After).
  uint64_t max_memory_bytes = 1ull << 30;
  // Group commit: how long the WAL writer gathers records before one fdatasync.
  std::chrono::microseconds fsync_interval{0};
  // The head is cut into a block when its oldest insert is this old, or when
  // it holds block_max_spans spans, or when it uses half of max_memory_bytes.
  std::chrono::nanoseconds block_duration = std::chrono::minutes(10);
  uint64_t block_max_spans = 1'000'000;
  // Compaction merges adjacent blocks while the result stays under both.
  std::chrono::nanoseconds compact_max_duration = std::chrono::hours(2);
  uint64_t compact_max_spans = 4'000'000;
  uint32_t max_spans_per_trace = 10'000;
  // Time source for block cutting and retention (tests pass a FakeClock).
  // Not owned; must outlive the store. nullptr = the system clock.
  const common::Clock* clock = nullptr;
  // Filesystem calls that may fail (tests inject faults). nullptr = the OS.
  std::shared_ptr<FileOps> file_ops;
  // Run cutting, compaction and retention in a background thread. Tests turn
  // it off and call run_maintenance() themselves.
  bool background = true;
  std::chrono::milliseconds maintenance_interval{1000};
};

class EmbeddedStore final : public Store {
 public:
  // Opens (creating) the store in options.data_dir, loads blocks (skipping and
  // reporting corrupt ones) and replays the WAL into the head.
  static Status open(const StoreOptions& options, std::unique_ptr<Store>* out);
  static Status open(const StoreOptions& options, std::unique_ptr<EmbeddedStore>* out);
  ~EmbeddedStore() override;

  Status append_traces(std::string_view encoded, const common::otlp::TracesRequest& decoded,
                       AppendResult* result) override;
  Status append_metrics(std::string_view encoded, const common::otlp::MetricsRequest& decoded,
                        AppendResult* result) override;
  Status append_logs(std::string_view encoded, const common::otlp::LogsRequest& decoded,
                     AppendResult* result) override;
  Status append_profile(std::string_view pprof, const ProfileLabels& labels,
                        AppendResult* result) override;

  Status find_trace(std::string_view trace_id, std::vector<SpanRow>* out) override;
  Status scan_spans(const SpanFilter& filter,
                    const std::function<bool(const SpanRow&)>& visit) override;
  Status scan_metric_points(const MetricFilter& filter,
                            const std::function<bool(const MetricPointRow&)>& visit) override;
  Status scan_logs(const LogFilter& filter,
                   const std::function<bool(const LogRow&)>& visit) override;
  Status read_profiles(const ProfileFilter& filter, std::vector<ProfileRow>* out) override;
  Status scan_rollups(const RollupFilter& filter,
                      const std::function<bool(const RollupRow&)>& visit) override;
  StoreStats stats() override;
  Status close() override;

  // ---- maintenance (the background thread calls these; tests may too) ----
  // Freezes the head and writes it as a block (no-op when empty).
  Status cut_head();
  // Cuts the head if due, applies retention, runs one compaction pass.
  Status run_maintenance();
  Status apply_retention();
  // Merges runs of adjacent small blocks; returns the number of merges.
  Status compact(int* merged = nullptr);
  // Merges the rollup files of each past rollup_merge_window into one file
  // (write new, fsync, rename, then delete the old ones); returns the number
  // of merged files written. Query results are unchanged by it.
  Status compact_rollups(int* written = nullptr);
  size_t block_count() const;

 private:
  explicit EmbeddedStore(StoreOptions options);
  Status start();
  Status replay_wal(uint64_t covered_seq);
  Status load_blocks();
  Status append(Signal signal, WalRecordType type, std::string_view payload,
                const std::function<void(Head*, AppendResult*)>& insert, AppendResult* result);
  uint64_t memory_used() const;
  uint64_t now() const { return clock_->wall_unix_nano(); }
  std::shared_ptr<Head> current_head() const;
  std::vector<std::shared_ptr<Head>> all_heads() const;
  std::vector<std::shared_ptr<Block>> blocks_snapshot() const;
  struct ReadView {
    std::vector<std::shared_ptr<Block>> blocks;
    std::vector<std::shared_ptr<Head>> heads;  // frozen (oldest first), then current
  };
  ReadView read_view() const;
  Status write_frozen_locked();  // REQUIRES(write_mu_)
  uint64_t disk_bytes() const;
  void read_rollup_files(const RollupFilter& f, RollupSet* into);
  // At open: removes a merge's leftovers (temp files, inputs a crash kept).
  Status recover_rollup_files();
  void delete_wal_before(uint64_t seq);
  void note_block_error(const Block& b, const Status& s);
  void background_loop();

  const StoreOptions options_;
  const common::Clock* clock_;
  const std::shared_ptr<FileOps> ops_;
  const std::string wal_dir_, blocks_dir_, rollups_dir_;
  std::unique_ptr<GroupCommit> wal_;

  // Appends hold cut_mu_ shared across "WAL append + head insert"; a cut holds
  // it exclusively to roll the WAL and swap the head, so no record can land
  // in a WAL segment older than the head it was inserted into.
  std::shared_mutex cut_mu_;
  // glibc's rwlock prefers readers: under steady ingest some append always
  // holds cut_mu_ shared. A cut holds cut_gate_ while it waits for the
  // exclusive lock, and appends pass through the gate first, so cuts cannot starve.
  std::mutex cut_gate_;
  mutable std::mutex heads_mu_;
  std::shared_ptr<Head> head_;  // GUARDED_BY(heads_mu_)
  uint64_t head_started_ = 0;   // GUARDED_BY(heads_mu_), wall ns of first insert
  // Heads cut but not yet durable as blocks, oldest first, each with the first
  // WAL segment that is NOT covered by it. Still served to readers.
  std::vector<std::pair<std::shared_ptr<Head>, uint64_t>> frozen_;  // GUARDED_BY(heads_mu_)
  std::mutex write_mu_;  // one block writer at a time (cut, compaction)
  // Span counts per recent trace, shared by every head so the per-trace span
  // limit survives head cuts; fixed size, counted in memory_used().
  const std::shared_ptr<TraceSpanCounts> trace_counts_;

  mutable std::mutex blocks_mu_;
  std::vector<std::shared_ptr<Block>> blocks_;  // GUARDED_BY(blocks_mu_), by id
  uint64_t next_block_id_ = 1;                  // GUARDED_BY(write_mu_)

  // Readers of rollups/ hold it shared; replacing files there (rollup merge,
  // rollup retention) holds it exclusively, so a reader never sees a merged
  // file together with its inputs.
  mutable std::shared_mutex rollup_files_mu_;

  std::mutex reported_mu_;
  std::set<uint64_t> reported_blocks_;  // GUARDED_BY(reported_mu_): corrupt blocks already logged

  std::atomic<bool> closed_{false};
  std::mutex bg_mu_;
  std::condition_variable bg_cv_;
  bool bg_stop_ = false;
  std::thread bg_thread_;

  // Self-metrics.
  std::atomic<int64_t> accepted_[kSignalCount] = {};
  std::atomic<int64_t> refused_[kSignalCount] = {};
  std::atomic<int64_t> dropped_[kSignalCount] = {};
  std::atomic<int64_t> torn_tails_{0}, wal_crc_failures_{0}, block_crc_failures_{0};
  std::atomic<int64_t> truncated_traces_{0}, compactions_{0}, retention_deletes_{0};
  std::atomic<int64_t> background_errors_{0};
};

}  // namespace pyrometer::server::store
