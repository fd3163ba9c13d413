// EmbeddedStore maintenance: cutting the head into blocks, deleting covered
// WAL segments, retention, compaction, the background thread and close().
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <shared_mutex>

#include "server/store/block_writer.h"
#include "server/store/compactor.h"
#include "server/store/embedded/embedded_store.h"
#include "server/store/retention.h"

namespace pyrometer::server::store {

Status EmbeddedStore::cut_head() {
  std::lock_guard<std::mutex> write_lock(write_mu_);
  {
    std::unique_lock<std::mutex> gate(cut_gate_);
    std::unique_lock<std::shared_mutex> cut(cut_mu_);
    gate.unlock();
    std::shared_ptr<Head> head = current_head();
    if (!head->empty()) {
      uint64_t seq = 0;
      Status s = wal_->roll(&seq);
      if (!s.ok()) return s;  // keep appending into the same head
      std::lock_guard<std::mutex> lock(heads_mu_);
      frozen_.emplace_back(head, seq);
      head_ = std::make_shared<Head>(trace_counts_);
      head_started_ = 0;
    }
  }
  return write_frozen_locked();
}

Status EmbeddedStore::write_frozen_locked() {
  for (;;) {
    std::shared_ptr<Head> head;
    uint64_t seq;
    {
      std::lock_guard<std::mutex> lock(heads_mu_);
      if (frozen_.empty()) return Status::ok_status();
      head = frozen_.front().first;
      seq = frozen_.front().second;
    }
    uint64_t id = next_block_id_++;
    BlockInput in;
    in.spans = &head->spans();
    in.logs = &head->logs();
    in.metrics = &head->metrics();
    in.rollups = &head->rollups();
    in.profiles = &head->profiles();
    in.wal_seq_end = seq;
    BlockMeta meta;
    Status s = write_block(blocks_dir_, id, in, ops_.get(), &meta);
    std::shared_ptr<Block> block;
    if (s.ok()) s = Block::open(blocks_dir_ + "/" + block_dir_name(id), &block);
    if (!s.ok()) {
      // The head stays frozen in memory and readable; its WAL stays on disk.
      background_errors_++;
      std::fprintf(stderr, "pyrometer-store: writing block %llu failed: %s\n",
                   static_cast<unsigned long long>(id), s.to_string().c_str());
      return s;
    }
    {
      // Atomic for readers: see read_view().
      std::lock_guard<std::mutex> heads(heads_mu_);
      std::lock_guard<std::mutex> blocks(blocks_mu_);
      blocks_.push_back(block);
      frozen_.erase(frozen_.begin());
    }
    delete_wal_before(seq);
  }
}

void EmbeddedStore::delete_wal_before(uint64_t seq) {
  for (uint64_t s : wal_list_segments(wal_dir_)) {
    if (s >= seq) break;
    ::unlink(wal_segment_path(wal_dir_, s).c_str());
  }
}

Status EmbeddedStore::run_maintenance() {
  Status first;
  auto keep = [&](const Status& s) {
    if (!s.ok() && first.ok()) first = s;
  };
  std::shared_ptr<Head> head;
  uint64_t started;
  bool frozen_pending;
  {
    std::lock_guard<std::mutex> lock(heads_mu_);
    head = head_;
    started = head_started_;
    frozen_pending = !frozen_.empty();
  }
  uint64_t t = now();
  bool due = (started && t - started >= static_cast<uint64_t>(options_.block_duration.count())) ||
             head->span_rows() >= options_.block_max_spans ||
             head->bytes() >= options_.max_memory_bytes / 2;
  if (due) {
    keep(cut_head());
  } else if (frozen_pending) {
    std::lock_guard<std::mutex> write_lock(write_mu_);
    keep(write_frozen_locked());
  }
  keep(apply_retention());
  keep(compact_rollups());
  keep(compact());
  return first;
}

Status EmbeddedStore::apply_retention() {
  std::lock_guard<std::mutex> write_lock(write_mu_);
  uint64_t t = now();
  RetentionPolicy p;
  p.now_unix_nano = t;
  p.retention_nanos = static_cast<uint64_t>(options_.retention.count());
  p.max_disk_bytes = options_.max_disk_bytes;
  auto blocks = blocks_snapshot();
  uint64_t block_bytes = 0;
  for (const auto& b : blocks) block_bytes += b->meta().disk_bytes();
  uint64_t all = disk_bytes();
  p.other_disk_bytes = all > block_bytes ? all - block_bytes : 0;
  Status first;
  for (const auto& b : select_expired_blocks(blocks, p)) {
    // Rollups outlive raw data: move them out before the block goes. Readers
    // of rollups see the block or the moved file, not both (scan_rollups).
    std::unique_lock<std::shared_mutex> files_lock(rollup_files_mu_);
    if (b->meta().rollup_rows > 0) {
      std::string to = rollups_dir_ + "/" + rollup_file_name(b->id(), b->meta().max_time);
      // ENOENT with the target present: moved before a crash, block not yet gone.
      if (::rename((b->dir() + "/rollups").c_str(), to.c_str()) != 0 &&
          !(errno == ENOENT && ::access(to.c_str(), F_OK) == 0)) {
        background_errors_++;
        if (first.ok()) first = Status::io_error("moving rollups of " + b->dir());
        continue;  // keep the block rather than lose its rollups
      }
      sync_dir(rollups_dir_);
    }
    {
      std::lock_guard<std::mutex> lock(blocks_mu_);
      blocks_.erase(std::remove(blocks_.begin(), blocks_.end(), b), blocks_.end());
    }
    remove_dir(b->dir());
    retention_deletes_++;
  }
  // Rollup files expire on their own, longer clock.
  uint64_t rollup_keep = static_cast<uint64_t>(options_.rollup_retention.count());
  if (rollup_keep && t > rollup_keep) {
    DIR* d = ::opendir(rollups_dir_.c_str());
    std::vector<std::string> old;
    if (d) {
      while (dirent* e = ::readdir(d)) {
        uint64_t id, max_minute;
        if (parse_rollup_file_name(e->d_name, &id, &max_minute) && max_minute < t - rollup_keep) {
          old.push_back(e->d_name);
        }
      }
      ::closedir(d);
    }
    std::unique_lock<std::shared_mutex> files_lock(rollup_files_mu_);
    for (const auto& n : old) ::unlink((rollups_dir_ + "/" + n).c_str());
  }
  return first;
}

Status EmbeddedStore::compact(int* merged) {
  std::lock_guard<std::mutex> write_lock(write_mu_);
  if (merged) *merged = 0;
  CompactionLimits limits;
  limits.max_span_rows = options_.compact_max_spans;
  limits.max_duration_nanos = static_cast<uint64_t>(options_.compact_max_duration.count());
  Status first;
  for (const auto& inputs : plan_compactions(blocks_snapshot(), limits)) {
    uint64_t id = next_block_id_++;
    BlockMeta meta;
    Status s = merge_blocks(blocks_dir_, id, inputs, ops_.get(), &meta);
    std::shared_ptr<Block> block;
    if (s.ok()) s = Block::open(blocks_dir_ + "/" + block_dir_name(id), &block);
    if (!s.ok()) {
      if (s.code() == Status::Code::kCorruption) block_crc_failures_++;
      background_errors_++;
      std::fprintf(stderr, "pyrometer-store: compaction into block %llu failed: %s\n",
                   static_cast<unsigned long long>(id), s.to_string().c_str());
      if (first.ok()) first = s;
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(blocks_mu_);
      for (const auto& in : inputs)
        blocks_.erase(std::remove(blocks_.begin(), blocks_.end(), in), blocks_.end());
      blocks_.push_back(block);
    }
    for (const auto& in : inputs) remove_dir(in->dir());
    compactions_++;
    if (merged) ++*merged;
  }
  return first;
}

void EmbeddedStore::background_loop() {
  std::unique_lock<std::mutex> lock(bg_mu_);
  while (!bg_stop_) {
    bg_cv_.wait_for(lock, options_.maintenance_interval, [&] { return bg_stop_; });
    if (bg_stop_) break;
    lock.unlock();
    run_maintenance();  // failures are counted and reported inside
    lock.lock();
  }
}

Status EmbeddedStore::close() {
  if (closed_.exchange(true)) return Status::ok_status();
  {
    std::lock_guard<std::mutex> lock(bg_mu_);
    bg_stop_ = true;
  }
  bg_cv_.notify_all();
  if (bg_thread_.joinable()) bg_thread_.join();
  Status s = wal_ ? cut_head() : Status::ok_status();
  if (wal_) wal_->stop();
  return s;
}

}  // namespace pyrometer::server::store
