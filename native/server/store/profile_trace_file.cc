// profiles.traces: writing the sorted trace table and per-trace chunks, and
// reading one trace's chunk with positioned reads (no whole-file read).
#include "server/store/profile_trace_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "server/store/block_writer.h"
#include "server/store/column_codec.h"
#include "server/store/crc32c.h"

namespace pyrometer::server::store {

namespace {

// Chunk: blob file (zstd, its own CRC) of a dictionary followed by a
// one-trace PTX1 section using it.
void encode_chunk(const ProfileTraceIndex& index, std::string_view trace, std::string* out) {
  Dictionary dict;
  std::string section, d, raw;
  index.serialize_trace(trace, &dict, &section);
  dict.serialize(&d);
  put_bytes(&raw, d);
  raw.append(section);
  encode_blob_file(raw, out);
}

Status merge_chunk(std::string_view chunk, uint32_t crc, std::string_view trace,
                   ProfileTraceIndex* into) {
  if (crc32c(chunk) != crc) return Status::corruption("profile trace chunk checksum mismatch");
  std::string raw;
  Status s = decode_blob_file(chunk, &raw);
  if (!s.ok()) return s;
  ByteReader r(raw);
  std::string_view dbytes;
  Dictionary dict;
  if (!r.bytes(&dbytes) || !dict.parse(dbytes).ok()) {
    return Status::corruption("profile trace chunk dictionary");
  }
  ProfileTraceIndex one;
  s = one.parse(&r, dict);
  if (s.ok() && !r.done()) s = Status::corruption("profile trace chunk: trailing bytes");
  if (s.ok() && one.trace_ids() != std::vector<std::string>{std::string(trace)}) {
    s = Status::corruption("profile trace chunk: trace id differs from the table");
  }
  if (s.ok()) into->merge_all(one);
  return s;
}

struct Entry {
  std::string_view id;
  uint64_t offset;
  uint32_t length, crc;
};

Entry decode_entry(const char* p) {
  return Entry{std::string_view(p, 16), get_fixed64(p + 16), get_fixed32(p + 24),
               get_fixed32(p + 28)};
}

Status pread_all(int fd, uint64_t offset, size_t n, std::string* out) {
  out->resize(n);
  size_t done = 0;
  while (done < n) {
    ssize_t got = ::pread(fd, out->data() + done, n - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return Status::io_error(std::string("pread: ") + std::strerror(errno));
    if (got == 0) return Status::corruption("profile trace file truncated");
    done += static_cast<size_t>(got);
  }
  return Status::ok_status();
}

}  // namespace

void write_profile_trace_file(const ProfileTraceIndex& index, std::string* out) {
  std::vector<std::string> ids = index.trace_ids();
  out->clear();
  out->append(kProfileTraceFileMagic);
  put_fixed32(out, static_cast<uint32_t>(ids.size()));
  size_t table = out->size();
  out->append(ids.size() * kProfileTraceFileEntry, '\0');
  std::string chunk;
  for (size_t i = 0; i < ids.size(); ++i) {
    chunk.clear();
    encode_chunk(index, ids[i], &chunk);
    std::string entry = ids[i];
    put_fixed64(&entry, out->size());
    put_fixed32(&entry, static_cast<uint32_t>(chunk.size()));
    put_fixed32(&entry, crc32c(chunk));
    out->replace(table + i * kProfileTraceFileEntry, kProfileTraceFileEntry, entry);
    out->append(chunk);
  }
}

Status parse_profile_trace_file(std::string_view file, ProfileTraceIndex* into) {
  if (file.size() < kProfileTraceFileHeader || file.substr(0, 4) != kProfileTraceFileMagic) {
    return Status::corruption("profile trace file magic");
  }
  uint64_t n = get_fixed32(file.data() + 4);
  if ((file.size() - kProfileTraceFileHeader) / kProfileTraceFileEntry < n) {
    return Status::corruption("profile trace file table");
  }
  for (uint64_t i = 0; i < n; ++i) {
    Entry e = decode_entry(file.data() + kProfileTraceFileHeader + i * kProfileTraceFileEntry);
    if (e.offset > file.size() || e.length > file.size() - e.offset) {
      return Status::corruption("profile trace chunk out of bounds");
    }
    Status s = merge_chunk(file.substr(e.offset, e.length), e.crc, e.id, into);
    if (!s.ok()) return s;
  }
  return Status::ok_status();
}

Status read_profile_trace_file_one(const std::string& path, std::string_view trace_id,
                                   ProfileTraceIndex* into) {
  if (trace_id.size() != 16) return Status::ok_status();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return errno == ENOENT ? Status::corruption("missing " + path)
                           : Status::io_error("open " + path + ": " + std::strerror(errno));
  }
  Status s = [&]() -> Status {
    off_t size = ::lseek(fd, 0, SEEK_END);
    if (size < 0) return Status::io_error("seek " + path + ": " + std::strerror(errno));
    std::string buf;
    Status st = pread_all(fd, 0, kProfileTraceFileHeader, &buf);
    if (!st.ok()) return st;
    if (std::string_view(buf).substr(0, 4) != kProfileTraceFileMagic) {
      return Status::corruption("profile trace file magic");
    }
    uint64_t n = get_fixed32(buf.data() + 4);
    uint64_t usize = static_cast<uint64_t>(size);
    if ((usize - kProfileTraceFileHeader) / kProfileTraceFileEntry < n) {
      return Status::corruption("profile trace file table");
    }
    // Binary search over the fixed-size, id-sorted entries: log2(n) reads of 32 bytes.
    uint64_t lo = 0, hi = n;
    while (lo < hi) {
      uint64_t mid = lo + (hi - lo) / 2;
      st = pread_all(fd, kProfileTraceFileHeader + mid * kProfileTraceFileEntry,
                     kProfileTraceFileEntry, &buf);
      if (!st.ok()) return st;
      Entry e = decode_entry(buf.data());
      int c = e.id.compare(trace_id);
      if (c < 0) {
        lo = mid + 1;
      } else if (c > 0) {
        hi = mid;
      } else {
        if (e.offset > usize || e.length > usize - e.offset) {
          return Status::corruption("profile trace chunk out of bounds");
        }
        std::string id(e.id);
        uint32_t crc = e.crc;
        std::string chunk;
        st = pread_all(fd, e.offset, e.length, &chunk);
        return st.ok() ? merge_chunk(chunk, crc, id, into) : st;
      }
    }
    return Status::ok_status();
  }();
  ::close(fd);
  if (s.ok() || s.code() == Status::Code::kIOError) return s;
  return Status::corruption(path + ": " + s.message());
}

}  // namespace pyrometer::server::store
