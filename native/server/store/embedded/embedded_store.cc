// EmbeddedStore: wiring of WAL, head, blocks, rollups, retention and
// compaction, plus crash recovery at open. See embedded_store.h.
#include "server/store/embedded/embedded_store.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

#include "common/otlp_codec.h"
#include "server/store/block_writer.h"
#include "server/store/column_codec.h"
#include "server/store/compactor.h"
#include "server/store/log_table.h"
#include "server/store/metric_table.h"
#include "server/store/retention.h"
#include "server/store/span_table.h"

namespace pyrometer::server::store {
namespace {

namespace otlp = common::otlp;

Status make_dir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) == 0 || errno == EEXIST) return Status::ok_status();
  return Status::io_error("mkdir " + dir + ": " + std::strerror(errno));
}

Status make_dirs(const std::string& path) {
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      Status s = make_dir(path.substr(0, i));
      if (!s.ok()) return s;
    }
  }
  return Status::ok_status();
}

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

bool parse_block_name(const std::string& n, uint64_t* id) {
  if (n.size() != 16) return false;
  unsigned long long v = 0;
  int used = 0;
  if (std::sscanf(n.c_str(), "%16llx%n", &v, &used) != 1 || used != 16) return false;
  *id = v;
  return true;
}

// Profile WAL payload: service, instance, route, type (length-prefixed),
// time varint, then the pprof bytes to the end of the record.
void encode_profile_payload(std::string_view pprof, const ProfileLabels& l, std::string* out) {
  put_bytes(out, l.service);
  put_bytes(out, l.instance);
  put_bytes(out, l.route);
  put_bytes(out, l.profile_type);
  put_varint(out, l.time_unix_nano);
  out->append(pprof);
}

bool decode_profile_payload(std::string_view in, ProfileLabels* l, std::string_view* pprof) {
  ByteReader r(in);
  std::string_view s, i, ro, t;
  if (!r.bytes(&s) || !r.bytes(&i) || !r.bytes(&ro) || !r.bytes(&t) ||
      !r.varint(&l->time_unix_nano)) {
    return false;
  }
  l->service.assign(s);
  l->instance.assign(i);
  l->route.assign(ro);
  l->profile_type.assign(t);
  *pprof = in.substr(r.pos());
  return true;
}

}  // namespace

EmbeddedStore::EmbeddedStore(StoreOptions options)
    : options_(std::move(options)),
      clock_(options_.clock ? options_.clock : &common::SystemClock::instance()),
      ops_(options_.file_ops ? options_.file_ops : FileOps::real()),
      wal_dir_(options_.data_dir + "/wal"),
      blocks_dir_(options_.data_dir + "/blocks"),
      rollups_dir_(options_.data_dir + "/rollups"),
      trace_counts_(std::make_shared<TraceSpanCounts>(
          options_.max_spans_per_trace,
          std::min<uint64_t>(options_.max_memory_bytes / TraceSpanCounts::kMemoryDivisor,
                             TraceSpanCounts::kMaxBytes))) {
  head_ = std::make_shared<Head>(trace_counts_);
}

EmbeddedStore::~EmbeddedStore() { close(); }

Status EmbeddedStore::open(const StoreOptions& options, std::unique_ptr<Store>* out) {
  std::unique_ptr<EmbeddedStore> s;
  Status st = open(options, &s);
  if (st.ok()) *out = std::move(s);
  return st;
}

Status EmbeddedStore::open(const StoreOptions& options, std::unique_ptr<EmbeddedStore>* out) {
  if (options.data_dir.empty()) return Status::invalid_argument("store: data_dir is empty");
  std::unique_ptr<EmbeddedStore> s(new EmbeddedStore(options));
  Status st = s->start();
  if (!st.ok()) {
    s->closed_ = true;  // nothing to flush
    return st;
  }
  *out = std::move(s);
  return st;
}

Status EmbeddedStore::start() {
  for (const auto& d : {options_.data_dir, wal_dir_, blocks_dir_, rollups_dir_}) {
    Status s = make_dirs(d);
    if (!s.ok()) return s;
  }
  Status s = recover_rollup_files();
  if (!s.ok()) return s;
  s = load_blocks();
  if (!s.ok()) return s;
  uint64_t covered = 0;
  for (const auto& b : blocks_) covered = std::max(covered, b->meta().wal_seq_end);
  s = replay_wal(covered);
  if (!s.ok()) return s;
  auto segs = wal_list_segments(wal_dir_);
  uint64_t next = std::max<uint64_t>(covered, segs.empty() ? 1 : segs.back() + 1);
  GroupCommitOptions gc;
  gc.fsync_interval = options_.fsync_interval;
  wal_ = std::make_unique<GroupCommit>(wal_dir_, std::max<uint64_t>(next, 1), ops_, gc);
  s = wal_->start();
  if (!s.ok()) return s;
  if (!head_->empty()) head_started_ = now();
  if (options_.background) bg_thread_ = std::thread([this] { background_loop(); });
  return Status::ok_status();
}

Status EmbeddedStore::load_blocks() {
  std::vector<std::shared_ptr<Block>> loaded;
  for (const auto& name : list_dir(blocks_dir_)) {
    std::string path = blocks_dir_ + "/" + name;
    uint64_t id;
    if (name.size() > 4 && name.substr(name.size() - 4) == ".tmp") {
      remove_dir(path);  // a block write that never completed; its WAL is still there
      continue;
    }
    if (!parse_block_name(name, &id)) continue;
    next_block_id_ = std::max(next_block_id_, id + 1);
    std::shared_ptr<Block> b;
    Status s = Block::open(path, &b);
    if (!s.ok()) {
      block_crc_failures_++;
      std::fprintf(stderr, "pyrometer-store: block %s skipped: %s\n", path.c_str(),
                   s.to_string().c_str());
      continue;
    }
    loaded.push_back(std::move(b));
  }
  // Block ids are never reused: rollups/ names carry the ids of deleted blocks.
  for (const auto& name : list_dir(rollups_dir_)) {
    uint64_t id, max_minute;
    if (parse_rollup_file_name(name, &id, &max_minute))
      next_block_id_ = std::max(next_block_id_, id + 1);
  }
  // A compaction that crashed before deleting its inputs left duplicates.
  std::set<uint64_t> superseded;
  for (const auto& b : loaded)
    superseded.insert(b->meta().parents.begin(), b->meta().parents.end());
  std::lock_guard<std::mutex> lock(blocks_mu_);
  for (auto& b : loaded) {
    if (superseded.count(b->id())) {
      remove_dir(b->dir());
      continue;
    }
    blocks_.push_back(std::move(b));
  }
  return Status::ok_status();
}

Status EmbeddedStore::replay_wal(uint64_t covered_seq) {
  WalReplayStats stats;
  Head* head = head_.get();
  auto apply = [&](WalRecordType type, std::string_view payload) -> Status {
    Status s;
    switch (type) {
      case WalRecordType::kTraces: {
        otlp::TracesRequest req;
        s = otlp::decode_traces(payload, &req);
        if (s.ok()) truncated_traces_ += head->insert_traces(req).newly_truncated;
        break;
      }
      case WalRecordType::kMetrics: {
        otlp::MetricsRequest req;
        s = otlp::decode_metrics(payload, &req);
        if (s.ok()) head->insert_metrics(req);
        break;
      }
      case WalRecordType::kLogs: {
        otlp::LogsRequest req;
        s = otlp::decode_logs(payload, &req);
        if (s.ok()) head->insert_logs(req);
        break;
      }
      case WalRecordType::kProfile: {
        ProfileLabels labels;
        std::string_view pprof;
        if (!decode_profile_payload(payload, &labels, &pprof)) {
          s = Status::corruption("bad profile record");
        } else {
          s = head->insert_profile(pprof, labels);
        }
        break;
      }
    }
    if (!s.ok()) {
      // The CRC matched, so the record is what was acknowledged; a decoder that
      // now refuses it is a version skew. Count, report, keep going.
      wal_crc_failures_++;
      std::fprintf(stderr, "pyrometer-store: WAL record not replayable: %s\n",
                   s.to_string().c_str());
    }
    return Status::ok_status();
  };
  for (uint64_t seq : wal_list_segments(wal_dir_)) {
    std::string path = wal_segment_path(wal_dir_, seq);
    if (seq < covered_seq) {
      ::unlink(path.c_str());  // already inside a durable block
      continue;
    }
    Status s = wal_replay_segment(path, /*truncate_torn_tail=*/true, apply, &stats);
    if (!s.ok()) return s;
  }
  torn_tails_ += stats.torn_tail_truncations;
  wal_crc_failures_ += stats.crc_failures;
  return Status::ok_status();
}

uint64_t EmbeddedStore::memory_used() const {
  uint64_t n = wal_ ? wal_->pending_bytes() : 0;
  n += trace_counts_->bytes();
  std::lock_guard<std::mutex> lock(heads_mu_);
  n += head_->bytes();
  for (const auto& [h, seq] : frozen_) n += h->bytes();
  return n;
}

std::shared_ptr<Head> EmbeddedStore::current_head() const {
  std::lock_guard<std::mutex> lock(heads_mu_);
  return head_;
}

std::vector<std::shared_ptr<Head>> EmbeddedStore::all_heads() const {
  std::lock_guard<std::mutex> lock(heads_mu_);
  std::vector<std::shared_ptr<Head>> out;
  for (const auto& [h, seq] : frozen_) out.push_back(h);
  out.push_back(head_);
  return out;
}

EmbeddedStore::ReadView EmbeddedStore::read_view() const {
  // Both lists under both locks (heads_mu_ before blocks_mu_, as in
  // write_frozen_locked), so a head turning into a block is seen exactly once.
  ReadView v;
  std::lock_guard<std::mutex> heads(heads_mu_);
  std::lock_guard<std::mutex> blocks(blocks_mu_);
  v.blocks = blocks_;
  for (const auto& [h, seq] : frozen_) v.heads.push_back(h);
  v.heads.push_back(head_);
  return v;
}

std::vector<std::shared_ptr<Block>> EmbeddedStore::blocks_snapshot() const {
  std::lock_guard<std::mutex> lock(blocks_mu_);
  return blocks_;
}

size_t EmbeddedStore::block_count() const {
  std::lock_guard<std::mutex> lock(blocks_mu_);
  return blocks_.size();
}

Status EmbeddedStore::append(Signal signal, WalRecordType type, std::string_view payload,
                             const std::function<void(Head*, AppendResult*)>& insert,
                             AppendResult* result) {
  int sig = static_cast<int>(signal);
  if (closed_) {
    refused_[sig]++;
    return Status::unavailable("store is closed");
  }
  // A decoded request costs a few times its encoded size in the head
  // (dictionary ids widen to 8-byte column values), and a column that must
  // grow reallocates by at most 1/4 of its capacity (Table::grow): reserve both.
  uint64_t used = memory_used();
  uint64_t need = used + used / Table::kGrowthDivisor + payload.size() * 4;
  if (need > options_.max_memory_bytes) {
    refused_[sig]++;
    return Status::unavailable("storage memory bound reached (" +
                               std::to_string(options_.max_memory_bytes) + " bytes); retry later");
  }
  { std::lock_guard<std::mutex> gate(cut_gate_); }
  std::shared_lock<std::shared_mutex> cut(cut_mu_);
  Status s = wal_->append(type, payload);
  if (!s.ok()) {
    refused_[sig]++;
    return s;
  }
  std::shared_ptr<Head> head;
  {
    std::lock_guard<std::mutex> lock(heads_mu_);
    head = head_;
    if (head_started_ == 0) head_started_ = now();
  }
  AppendResult local;
  insert(head.get(), &local);
  accepted_[sig] += local.accepted;
  dropped_[sig] += local.rejected;
  if (result) {
    result->accepted += local.accepted;
    result->rejected += local.rejected;
    if (result->reject_reason.empty()) result->reject_reason = local.reject_reason;
  }
  return Status::ok_status();
}

Status EmbeddedStore::append_traces(std::string_view encoded, const otlp::TracesRequest& decoded,
                                    AppendResult* result) {
  return append(
      Signal::kTraces, WalRecordType::kTraces, encoded,
      [&](Head* h, AppendResult* r) {
        HeadInsertResult hr = h->insert_traces(decoded);
        r->accepted = hr.accepted;
        r->rejected = hr.dropped;
        truncated_traces_ += hr.newly_truncated;
        if (hr.dropped) {
          r->reject_reason = "trace exceeds " + std::to_string(options_.max_spans_per_trace) +
                             " spans; extra spans dropped (trace marked pyrometer.truncated)";
        }
      },
      result);
}

Status EmbeddedStore::append_metrics(std::string_view encoded, const otlp::MetricsRequest& decoded,
                                     AppendResult* result) {
  return append(
      Signal::kMetrics, WalRecordType::kMetrics, encoded,
      [&](Head* h, AppendResult* r) { r->accepted = h->insert_metrics(decoded); }, result);
}

Status EmbeddedStore::append_logs(std::string_view encoded, const otlp::LogsRequest& decoded,
                                  AppendResult* result) {
  return append(
      Signal::kLogs, WalRecordType::kLogs, encoded,
      [&](Head* h, AppendResult* r) { r->accepted = h->insert_logs(decoded); }, result);
}

Status EmbeddedStore::append_profile(std::string_view pprof, const ProfileLabels& labels,
                                     AppendResult* result) {
  // Validate before the WAL: a record that cannot be merged must not be acked.
  ProfileSet probe;
  Status s = probe.add_pprof(pprof, labels);
  if (!s.ok()) return s;
  std::string payload;
  encode_profile_payload(pprof, labels, &payload);
  return append(
      Signal::kProfiles, WalRecordType::kProfile, payload,
      [&](Head* h, AppendResult* r) {
        Status st = h->insert_profile(pprof, labels);
        r->accepted = st.ok() ? 1 : 0;
        r->rejected = st.ok() ? 0 : 1;
        if (!st.ok()) r->reject_reason = st.message();
      },
      result);
}

}  // namespace pyrometer::server::store
