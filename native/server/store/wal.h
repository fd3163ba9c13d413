// Write-ahead log: numbered segment files of CRC32C-checked records. A record's
// payload is the OTLP protobuf request verbatim, so replay = decode + insert.
// Layout: docs/storage-format.md §WAL.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "server/store/file_ops.h"

namespace pyrometer::server::store {

// Segment header: magic (u32 LE "PWAL") | version (u16) | reserved (u16).
inline constexpr uint32_t kWalMagic = 0x4C415750;  // bytes 'P','W','A','L'
inline constexpr uint16_t kWalVersion = 1;
inline constexpr size_t kWalSegmentHeaderSize = 8;
// Record header: crc32c (u32, over type + payload) | length (u32, payload) | type (u8).
inline constexpr size_t kWalRecordHeaderSize = 9;
// A length above this is corruption, not a record (OTLP requests are capped at 64 MiB).
inline constexpr uint32_t kWalMaxRecordBytes = 256u << 20;

enum class WalRecordType : uint8_t { kTraces = 1, kMetrics = 2, kLogs = 3, kProfile = 4 };

// Appends one framed record (header + payload) to `out`.
void wal_frame_record(WalRecordType type, std::string_view payload, std::string* out);
// The record header alone (CRC over type + payload, length, type), so callers
// can checksum outside a lock and only copy under it.
void wal_record_header(WalRecordType type, std::string_view payload,
                       char header[kWalRecordHeaderSize]);

std::string wal_segment_path(const std::string& dir, uint64_t seq);
// Sequence numbers of the segments in `dir`, ascending.
std::vector<uint64_t> wal_list_segments(const std::string& dir);

// One open segment, appended to by a single thread (the group-commit writer).
class WalSegment {
 public:
  // Creates segment `seq` (must not exist), writes and syncs its header.
  static Status create(const std::string& dir, uint64_t seq, FileOps* ops,
                       std::unique_ptr<WalSegment>* out);
  ~WalSegment();
  Status append(std::string_view framed);  // not synced
  Status sync();
  uint64_t seq() const { return seq_; }
  uint64_t size() const { return size_; }

 private:
  WalSegment(int fd, uint64_t seq, std::string path, FileOps* ops)
      : fd_(fd), seq_(seq), path_(std::move(path)), ops_(ops) {}
  int fd_;
  uint64_t seq_;
  std::string path_;
  FileOps* ops_;
  uint64_t size_ = kWalSegmentHeaderSize;
};

struct WalReplayStats {
  int64_t records = 0;
  int64_t torn_tail_truncations = 0;  // segments whose last record was partial
  int64_t crc_failures = 0;           // records with a bad CRC or length before the end
  int64_t bytes = 0;
};

// Reads segment `path`, calling `fn` for each intact record in order. A torn
// tail (a record cut short by a crash, or a bad CRC on the very last record)
// is truncated away when `truncate_torn_tail`; a bad record followed by more
// data is corruption: counted, reported to stderr and the rest of the
// segment is skipped. Returns IOError only when the file cannot be read;
// corruption never fails the replay. `fn` returning non-ok aborts with it.
Status wal_replay_segment(const std::string& path, bool truncate_torn_tail,
                          const std::function<Status(WalRecordType, std::string_view)>& fn,
                          WalReplayStats* stats);

}  // namespace pyrometer::server::store
