// Group commit: one writer thread batches WAL appends from concurrent callers
// into one write + one fdatasync, and wakes each caller when its batch is durable.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "common/status.h"
#include "server/store/file_ops.h"
#include "server/store/wal.h"

namespace pyrometer::server::store {

struct GroupCommitOptions {
  // How long the writer waits after the first record of a batch for more
  // records before write + fdatasync. 0: sync as soon as the writer is free
  // (batches still form while a previous fsync runs).
  std::chrono::microseconds fsync_interval{0};
  uint64_t segment_max_bytes = 64u << 20;  // roll to a new segment past this
  uint64_t max_batch_bytes = 8u << 20;     // write early once a batch is this big
};

struct GroupCommitStats {
  int64_t fsyncs = 0;
  double fsync_seconds_sum = 0;
  double fsync_seconds_max = 0;
  int64_t bytes_written = 0;
};

// Thread-safe. Lifetime: start() → append()/roll() from any thread → stop().
class GroupCommit {
 public:
  GroupCommit(std::string dir, uint64_t first_seq, std::shared_ptr<FileOps> ops,
              GroupCommitOptions options);
  ~GroupCommit();

  // Creates the first segment and starts the writer thread.
  Status start();
  // Blocks until `payload` is written and fdatasynced (ok) or the write or
  // sync failed (IOError: the record may or may not be in the log; after a
  // failure the writer continues in a fresh segment).
  Status append(WalRecordType type, std::string_view payload);
  // Waits for in-flight batches, then continues in a new segment; every record
  // appended before roll() returns is in a segment with seq < *new_seq.
  Status roll(uint64_t* new_seq);
  // Flushes what is queued and joins the writer. Idempotent.
  void stop();

  // Heap bytes of the batch buffers (queued records and the reused buffer).
  uint64_t pending_bytes() const;
  uint64_t current_seq() const;
  GroupCommitStats stats() const;

 private:
  void run();
  Status open_segment_locked(uint64_t seq);

  const std::string dir_;
  const std::shared_ptr<FileOps> ops_;
  const GroupCommitOptions options_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // writer waits for records
  std::condition_variable done_cv_;  // callers wait for their batch
  std::string batch_;                // framed records of the batch being filled
  std::string spare_;                // the last written batch's buffer, reused
  std::chrono::steady_clock::time_point batch_started_;
  uint64_t filling_batch_ = 1;    // id of the batch appends currently join
  uint64_t completed_batch_ = 0;  // every batch <= this is done
  std::unordered_map<uint64_t, Status> failed_batches_;
  bool writing_ = false;
  bool stopping_ = false;
  bool need_new_segment_ = false;
  uint64_t next_seq_;
  std::unique_ptr<WalSegment> segment_;
  GroupCommitStats stats_;
  std::thread thread_;
};

}  // namespace pyrometer::server::store
