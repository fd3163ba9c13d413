// Group commit writer. Callers frame their record into the shared batch under
// the mutex; the writer swaps the batch out and does the I/O without it.
#include "server/store/group_commit.h"

#include <cstdio>

namespace pyrometer::server::store {

GroupCommit::GroupCommit(std::string dir, uint64_t first_seq, std::shared_ptr<FileOps> ops,
                         GroupCommitOptions options)
    : dir_(std::move(dir)), ops_(std::move(ops)), options_(options), next_seq_(first_seq) {}

GroupCommit::~GroupCommit() { stop(); }

Status GroupCommit::open_segment_locked(uint64_t seq) {
  segment_.reset();
  std::unique_ptr<WalSegment> seg;
  Status s = WalSegment::create(dir_, seq, ops_.get(), &seg);
  next_seq_ = seq + 1;  // never reuse a number, even after a failed create
  if (!s.ok()) return s;
  segment_ = std::move(seg);
  need_new_segment_ = false;
  return s;
}

Status GroupCommit::start() {
  std::lock_guard<std::mutex> lock(mu_);
  Status s = open_segment_locked(next_seq_);
  if (!s.ok()) return s;
  thread_ = std::thread([this] { run(); });
  return s;
}

Status GroupCommit::append(WalRecordType type, std::string_view payload) {
  // The checksum pass over the payload runs before taking the lock; only the
  // copy into the shared batch is serialized.
  char header[kWalRecordHeaderSize];
  wal_record_header(type, payload, header);
  std::unique_lock<std::mutex> lock(mu_);
  if (stopping_) return Status::unavailable("WAL is closed");
  if (batch_.empty()) batch_started_ = std::chrono::steady_clock::now();
  batch_.append(header, kWalRecordHeaderSize);
  batch_.append(payload);
  uint64_t mine = filling_batch_;
  work_cv_.notify_one();
  done_cv_.wait(lock, [&] { return completed_batch_ >= mine; });
  auto it = failed_batches_.find(mine);
  return it == failed_batches_.end() ? Status::ok_status() : it->second;
}

void GroupCommit::run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    work_cv_.wait(lock, [&] { return stopping_ || !batch_.empty(); });
    if (batch_.empty() && stopping_) return;
    if (options_.fsync_interval.count() > 0 && !stopping_) {
      auto deadline = batch_started_ + options_.fsync_interval;
      work_cv_.wait_until(lock, deadline,
                          [&] { return stopping_ || batch_.size() >= options_.max_batch_bytes; });
    }
    // The filled batch goes to the writer; the callers fill the previous
    // batch's buffer, so a steady load does not regrow one every time.
    std::string batch = std::move(spare_);
    batch.clear();
    batch.swap(batch_);
    uint64_t id = filling_batch_++;
    writing_ = true;
    Status s;
    if (need_new_segment_ || !segment_ || segment_->size() >= options_.segment_max_bytes) {
      s = open_segment_locked(next_seq_);
    }
    WalSegment* seg = segment_.get();
    lock.unlock();
    auto t0 = std::chrono::steady_clock::now();
    if (s.ok()) s = seg->append(batch);
    if (s.ok()) s = seg->sync();
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    lock.lock();
    writing_ = false;
    stats_.fsyncs++;
    stats_.fsync_seconds_sum += secs;
    if (secs > stats_.fsync_seconds_max) stats_.fsync_seconds_max = secs;
    if (s.ok()) {
      stats_.bytes_written += static_cast<int64_t>(batch.size());
    } else {
      // After a failed write or fsync the file's state is unknown (fsync
      // errors are not sticky on Linux); continue in a fresh segment.
      need_new_segment_ = true;
      failed_batches_[id] = s;
      std::fprintf(stderr, "pyrometer-store: WAL batch failed: %s\n", s.to_string().c_str());
    }
    // Waiters of older failed batches have read their status by now.
    if (failed_batches_.size() > 64) {
      for (auto it = failed_batches_.begin(); it != failed_batches_.end();) {
        it = it->first + 64 < id ? failed_batches_.erase(it) : std::next(it);
      }
    }
    if (batch.capacity() <= 2 * options_.max_batch_bytes) spare_ = std::move(batch);
    completed_batch_ = id;
    done_cv_.notify_all();
  }
}

Status GroupCommit::roll(uint64_t* new_seq) {
  std::unique_lock<std::mutex> lock(mu_);
  done_cv_.wait(lock, [&] { return (batch_.empty() && !writing_) || stopping_; });
  Status s = open_segment_locked(next_seq_);
  if (!s.ok()) need_new_segment_ = true;
  *new_seq = next_seq_ - 1;
  return s;
}

void GroupCommit::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  segment_.reset();
}

uint64_t GroupCommit::pending_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  // Capacity, not size: the reused buffers hold their memory between batches.
  return batch_.capacity() + spare_.capacity();
}

uint64_t GroupCommit::current_seq() const {
  std::lock_guard<std::mutex> lock(mu_);
  return next_seq_ - 1;
}

GroupCommitStats GroupCommit::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace pyrometer::server::store
