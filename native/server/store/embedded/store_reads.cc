// EmbeddedStore reads: find_trace, scans of every table, merged profiles and
// rollups, and self-metrics. Each read sees heads and blocks atomically (read_view).
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <shared_mutex>

#include "server/store/block_writer.h"
#include "server/store/embedded/embedded_store.h"
#include "server/store/log_table.h"
#include "server/store/metric_table.h"
#include "server/store/retention.h"
#include "server/store/rollup_file.h"
#include "server/store/span_table.h"

namespace pyrometer::server::store {
namespace {

std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") out.push_back(n);
    }
    ::closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

uint64_t file_size(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

}  // namespace

void EmbeddedStore::note_block_error(const Block& b, const Status& s) {
  {
    // Deleted by retention or compaction while this read ran: not an error.
    std::lock_guard<std::mutex> lock(blocks_mu_);
    bool live = false;
    for (const auto& x : blocks_) live = live || x.get() == &b;
    if (!live) return;
  }
  block_crc_failures_++;
  std::lock_guard<std::mutex> lock(reported_mu_);
  if (reported_blocks_.insert(b.id()).second) {  // log once per block
    std::fprintf(stderr, "pyrometer-store: block %s skipped: %s\n", b.dir().c_str(),
                 s.to_string().c_str());
  }
}

Status EmbeddedStore::find_trace(std::string_view trace_id, std::vector<SpanRow>* out) {
  ReadView view = read_view();
  if (trace_id.size() != 16) return Status::invalid_argument("trace id must be 16 bytes");
  for (const auto& b : view.blocks) {
    if (!b->may_contain_trace(trace_id)) continue;
    std::vector<SpanRow> rows;
    Status s = b->find_trace(trace_id, &rows);
    if (!s.ok()) {
      note_block_error(*b, s);
      continue;
    }
    for (auto& r : rows) out->push_back(std::move(r));
  }
  for (const auto& h : view.heads) h->find_trace(trace_id, out);
  return Status::ok_status();
}

Status EmbeddedStore::scan_spans(const SpanFilter& f,
                                 const std::function<bool(const SpanRow&)>& visit) {
  ReadView view = read_view();
  for (const auto& b : view.blocks) {
    if (b->meta().span_rows == 0 || !b->overlaps(f.start_unix_nano, f.end_unix_nano)) continue;
    if (!f.service.empty() && !b->has_service(f.service)) continue;
    if (!f.name.empty() && !b->may_have_span_name(f.name)) continue;
    bool stopped = false;
    Status s = b->scan_spans(f, visit, &stopped);
    if (!s.ok()) note_block_error(*b, s);
    if (stopped) return Status::ok_status();
  }
  for (const auto& h : view.heads) {
    if (!h->scan_spans(f, visit)) break;
  }
  return Status::ok_status();
}

Status EmbeddedStore::scan_metric_points(const MetricFilter& f,
                                         const std::function<bool(const MetricPointRow&)>& visit) {
  ReadView view = read_view();
  for (const auto& b : view.blocks) {
    if (b->meta().metric_rows == 0 || !b->overlaps(f.start_unix_nano, f.end_unix_nano)) continue;
    if (!f.service.empty() && !b->has_service(f.service)) continue;
    Table t(&metric_schema());
    Status s = b->read_table(BlockTable::kMetrics, &t);
    if (!s.ok()) {
      note_block_error(*b, s);
      continue;
    }
    MetricPointRow row;
    for (size_t r = 0; r < t.rows(); ++r) {
      if (!metric_matches(t, r, f) || !materialize_metric(t, r, &row).ok()) continue;
      if (!visit(row)) return Status::ok_status();
    }
  }
  for (const auto& h : view.heads) {
    if (!h->scan_metric_points(f, visit)) break;
  }
  return Status::ok_status();
}

Status EmbeddedStore::scan_logs(const LogFilter& f,
                                const std::function<bool(const LogRow&)>& visit) {
  ReadView view = read_view();
  for (const auto& b : view.blocks) {
    if (b->meta().log_rows == 0 || !b->overlaps(f.start_unix_nano, f.end_unix_nano)) continue;
    if (!f.service.empty() && !b->has_service(f.service)) continue;
    Table t(&log_schema());
    Status s = b->read_table(BlockTable::kLogs, &t);
    if (!s.ok()) {
      note_block_error(*b, s);
      continue;
    }
    LogRow row;
    for (size_t r = 0; r < t.rows(); ++r) {
      if (!log_matches(t, r, f) || !materialize_log(t, r, &row).ok()) continue;
      if (!visit(row)) return Status::ok_status();
    }
  }
  for (const auto& h : view.heads) {
    if (!h->scan_logs(f, visit)) break;
  }
  return Status::ok_status();
}

Status EmbeddedStore::read_profiles(const ProfileFilter& f, std::vector<ProfileRow>* out) {
  ReadView view = read_view();
  std::vector<ProfileRow> rows;
  for (const auto& b : view.blocks) {
    if (!b->has_profiles() || !b->overlaps(f.start_unix_nano, f.end_unix_nano)) continue;
    ProfileSet set;
    // A trace lookup reads only that trace's chunk of profiles.traces.
    Status s =
        f.trace_id.empty() ? b->read_profiles(&set) : b->read_trace_profiles(f.trace_id, &set);
    if (!s.ok()) {
      note_block_error(*b, s);
      continue;
    }
    set.collect(f, &rows);
  }
  for (const auto& h : view.heads) h->collect_profiles(f, &rows);
  merge_profile_rows(&rows);
  for (auto& r : rows) out->push_back(std::move(r));
  return Status::ok_status();
}

void EmbeddedStore::read_rollup_files(const RollupFilter& f, RollupSet* into) {
  for (const auto& name : list_dir(rollups_dir_)) {
    uint64_t id, max_minute;
    if (!parse_rollup_file_name(name, &id, &max_minute)) continue;
    if (max_minute + kMinuteNanos <= f.start_unix_nano) continue;
    std::string file;
    Status s = read_file(rollups_dir_ + "/" + name, &file);
    RollupSet set;
    if (s.ok()) s = read_rollup_file(file, &set);
    if (!s.ok()) {
      block_crc_failures_++;
      std::fprintf(stderr, "pyrometer-store: rollup file %s skipped: %s\n", name.c_str(),
                   s.to_string().c_str());
      continue;
    }
    set.visit(f, [&](const RollupRow& r) {
      into->merge(r);
      return true;
    });
  }
}

Status EmbeddedStore::scan_rollups(const RollupFilter& f,
                                   const std::function<bool(const RollupRow&)>& visit) {
  // Held across the view and the files: retention moves a block's rollups
  // into rollups/ and a merge replaces files there, both under it exclusively.
  std::shared_lock<std::shared_mutex> files_lock(rollup_files_mu_);
  ReadView view = read_view();
  RollupSet merged;
  read_rollup_files(f, &merged);
  for (const auto& b : view.blocks) {
    if (b->meta().rollup_rows == 0 || !b->overlaps(f.start_unix_nano, f.end_unix_nano)) continue;
    RollupSet set;
    Status s = b->read_rollups(&set);
    if (!s.ok()) {
      note_block_error(*b, s);
      continue;
    }
    set.visit(f, [&](const RollupRow& r) {
      merged.merge(r);
      return true;
    });
  }
  for (const auto& h : view.heads) {
    h->scan_rollups(f, [&](const RollupRow& r) {
      merged.merge(r);
      return true;
    });
  }
  merged.visit(f, visit);
  return Status::ok_status();
}

uint64_t EmbeddedStore::disk_bytes() const {
  uint64_t n = 0;
  for (const auto& b : blocks_snapshot()) n += b->meta().disk_bytes();
  for (const auto& name : list_dir(wal_dir_)) n += file_size(wal_dir_ + "/" + name);
  for (const auto& name : list_dir(rollups_dir_)) n += file_size(rollups_dir_ + "/" + name);
  return n;
}

StoreStats EmbeddedStore::stats() {
  StoreStats st;
  for (int i = 0; i < kSignalCount; ++i) {
    st.accepted[i] = accepted_[i];
    st.refused[i] = refused_[i];
    st.dropped[i] = dropped_[i];
  }
  if (wal_) {
    GroupCommitStats g = wal_->stats();
    st.wal_fsyncs = g.fsyncs;
    st.wal_fsync_seconds_sum = g.fsync_seconds_sum;
    st.wal_fsync_seconds_max = g.fsync_seconds_max;
  }
  for (const auto& name : list_dir(wal_dir_))
    st.wal_bytes += static_cast<int64_t>(file_size(wal_dir_ + "/" + name));
  st.wal_torn_tail_truncations = torn_tails_;
  st.wal_crc_failures = wal_crc_failures_;
  st.block_crc_failures = block_crc_failures_;
  for (const auto& h : all_heads()) {
    st.head_bytes += static_cast<int64_t>(h->bytes());
    st.head_spans += static_cast<int64_t>(h->span_rows());
  }
  st.block_count = static_cast<int64_t>(block_count());
  st.disk_bytes = static_cast<int64_t>(disk_bytes());
  st.truncated_traces = truncated_traces_;
  st.compactions = compactions_;
  st.blocks_deleted_by_retention = retention_deletes_;
  st.background_errors = background_errors_;
  return st;
}

}  // namespace pyrometer::server::store
