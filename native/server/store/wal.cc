// WAL segment files: creation, append, fsync, and crash-tolerant replay.
#include "server/store/wal.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "server/store/column_codec.h"
#include "server/store/crc32c.h"

namespace pyrometer::server::store {

void wal_record_header(WalRecordType type, std::string_view payload,
                       char header[kWalRecordHeaderSize]) {
  uint8_t t = static_cast<uint8_t>(type);
  uint32_t crc = crc32c_extend(crc32c_extend(0, &t, 1), payload.data(), payload.size());
  std::string h;
  h.reserve(kWalRecordHeaderSize);
  put_fixed32(&h, crc);
  put_fixed32(&h, static_cast<uint32_t>(payload.size()));
  h.push_back(static_cast<char>(t));
  std::memcpy(header, h.data(), kWalRecordHeaderSize);
}

void wal_frame_record(WalRecordType type, std::string_view payload, std::string* out) {
  char header[kWalRecordHeaderSize];
  wal_record_header(type, payload, header);
  out->append(header, kWalRecordHeaderSize);
  out->append(payload);
}

std::string wal_segment_path(const std::string& dir, uint64_t seq) {
  char name[32];
  std::snprintf(name, sizeof name, "/%016" PRIx64 ".wal", seq);
  return dir + name;
}

std::vector<uint64_t> wal_list_segments(const std::string& dir) {
  std::vector<uint64_t> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    std::string_view n(e->d_name);
    if (n.size() != 20 || n.substr(16) != ".wal") continue;
    uint64_t seq = 0;
    bool ok = true;
    for (char c : n.substr(0, 16)) {
      int v = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
      if (v < 0) ok = false;
      seq = seq * 16 + static_cast<uint64_t>(v < 0 ? 0 : v);
    }
    if (ok) out.push_back(seq);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

Status WalSegment::create(const std::string& dir, uint64_t seq, FileOps* ops,
                          std::unique_ptr<WalSegment>* out) {
  std::string path = wal_segment_path(dir, seq);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Status::io_error("create " + path + ": " + std::strerror(errno));
  std::unique_ptr<WalSegment> seg(new WalSegment(fd, seq, path, ops));
  std::string header;
  put_fixed32(&header, kWalMagic);
  header.push_back(static_cast<char>(kWalVersion & 0xff));
  header.push_back(static_cast<char>(kWalVersion >> 8));
  header.append(2, '\0');
  Status s = ops->write_all(fd, header, path);
  if (s.ok()) s = ops->sync(fd, path);
  if (s.ok()) s = sync_dir(dir);
  if (!s.ok()) {
    seg.reset();
    ::unlink(path.c_str());
    return s;
  }
  *out = std::move(seg);
  return Status::ok_status();
}

WalSegment::~WalSegment() { ::close(fd_); }

Status WalSegment::append(std::string_view framed) {
  Status s = ops_->write_all(fd_, framed, path_);
  if (s.ok()) size_ += framed.size();
  return s;
}

Status WalSegment::sync() { return ops_->sync(fd_, path_); }

Status wal_replay_segment(const std::string& path, bool truncate_torn_tail,
                          const std::function<Status(WalRecordType, std::string_view)>& fn,
                          WalReplayStats* stats) {
  std::string data;
  Status s = read_file(path, &data);
  if (!s.ok()) return s;
  stats->bytes += static_cast<int64_t>(data.size());
  auto truncate_to = [&](size_t good, const char* why) {
    stats->torn_tail_truncations++;
    std::fprintf(stderr,
                 "pyrometer-store: WAL %s: torn tail (%s) at offset %zu of %zu, truncated\n",
                 path.c_str(), why, good, data.size());
    if (truncate_torn_tail && ::truncate(path.c_str(), static_cast<off_t>(good)) != 0) {
      std::fprintf(stderr, "pyrometer-store: truncate %s: %s\n", path.c_str(),
                   std::strerror(errno));
    }
  };
  if (data.size() < kWalSegmentHeaderSize) {
    // Crash between create and header sync: an empty segment, nothing lost.
    if (!data.empty()) truncate_to(0, "partial header");
    return Status::ok_status();
  }
  if (get_fixed32(data.data()) != kWalMagic) {
    stats->crc_failures++;
    std::fprintf(stderr, "pyrometer-store: WAL %s: bad magic, segment skipped\n", path.c_str());
    return Status::ok_status();
  }
  size_t pos = kWalSegmentHeaderSize;
  while (pos < data.size()) {
    size_t left = data.size() - pos;
    if (left < kWalRecordHeaderSize) {
      truncate_to(pos, "partial header");
      break;
    }
    uint32_t crc = get_fixed32(data.data() + pos);
    uint32_t len = get_fixed32(data.data() + pos + 4);
    uint8_t type = static_cast<uint8_t>(data[pos + 8]);
    bool len_ok = len <= kWalMaxRecordBytes;
    if (len_ok && len > left - kWalRecordHeaderSize) {
      truncate_to(pos, "record past end of file");
      break;
    }
    std::string_view payload;
    bool crc_ok = false;
    if (len_ok) {
      payload = std::string_view(data).substr(pos + kWalRecordHeaderSize, len);
      crc_ok = crc32c_extend(crc32c_extend(0, &type, 1), payload.data(), payload.size()) == crc;
    }
    size_t end = pos + kWalRecordHeaderSize + (len_ok ? len : 0);
    if (!crc_ok || type < 1 || type > 4) {
      if (len_ok && end == data.size()) {
        truncate_to(pos, "checksum mismatch on last record");
      } else {
        stats->crc_failures++;
        std::fprintf(stderr,
                     "pyrometer-store: WAL %s: corrupt record at offset %zu, rest of segment "
                     "(%zu bytes) skipped\n",
                     path.c_str(), pos, data.size() - pos);
      }
      break;
    }
    s = fn(static_cast<WalRecordType>(type), payload);
    if (!s.ok()) return s;
    stats->records++;
    pos = end;
  }
  return Status::ok_status();
}

}  // namespace pyrometer::server::store
