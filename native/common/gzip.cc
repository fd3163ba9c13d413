// gzip / bounded gunzip on zlib (see gzip.h).
#include "common/gzip.h"

#include <zlib.h>

#include <algorithm>

namespace pyrometer::common {

namespace {

constexpr size_t kChunk = 64 * 1024;
constexpr int kGzipWindowBits = 15 + 16;  // 32 KiB window, gzip header and trailer

// Feeds zlib at most UINT_MAX bytes at a time (avail_in is an unsigned int).
uInt clamp_avail(size_t n) { return static_cast<uInt>(std::min<size_t>(n, 1u << 30)); }

struct Inflater {
  z_stream zs{};
  bool ok = false;
  Inflater() { ok = inflateInit2(&zs, kGzipWindowBits) == Z_OK; }
  ~Inflater() {
    if (ok) inflateEnd(&zs);
  }
};

}  // namespace

Status gunzip(std::string_view in, size_t max_out, std::string* out) {
  if (in.empty()) return Status::invalid_argument("gzip: empty input");
  Inflater inf;
  if (!inf.ok) return Status::internal("gzip: inflateInit2 failed");
  z_stream& zs = inf.zs;
  const auto* next = reinterpret_cast<const Bytef*>(in.data());
  size_t remaining = in.size();
  size_t produced = 0;
  char buf[kChunk];
  for (;;) {
    zs.next_in = const_cast<Bytef*>(next);
    zs.avail_in = clamp_avail(remaining);
    const uInt given = zs.avail_in;
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    const int rc = inflate(&zs, Z_NO_FLUSH);
    const size_t consumed = given - zs.avail_in;
    next += consumed;
    remaining -= consumed;
    const size_t n = sizeof(buf) - zs.avail_out;
    if (n > max_out - produced) {
      return Status::too_large("gzip: decompressed size exceeds " + std::to_string(max_out) +
                               " bytes");
    }
    out->append(buf, n);
    produced += n;
    if (rc == Z_STREAM_END) {
      if (remaining == 0) return Status::ok_status();
      // Another member must follow; anything else is trailing garbage.
      if (remaining < 2 || static_cast<unsigned char>(next[0]) != 0x1f ||
          static_cast<unsigned char>(next[1]) != 0x8b) {
        return Status::invalid_argument("gzip: trailing bytes after the compressed stream");
      }
      if (inflateReset(&zs) != Z_OK) return Status::internal("gzip: inflateReset failed");
      continue;
    }
    if (rc == Z_OK) continue;
    if (rc == Z_BUF_ERROR) {
      // No progress possible: input ended before the stream did.
      if (remaining == 0 && n == 0) return Status::invalid_argument("gzip: truncated stream");
      continue;
    }
    if (rc == Z_MEM_ERROR) return Status::unavailable("gzip: out of memory");
    return Status::invalid_argument(std::string("gzip: corrupt stream: ") +
                                    (zs.msg != nullptr ? zs.msg : "inflate error"));
  }
}

void gzip(std::string_view in, std::string* out, int level) {
  z_stream zs{};
  if (deflateInit2(&zs, level, Z_DEFLATED, kGzipWindowBits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    // Only a level outside -1..9 can fail here (or memory, which throws below anyway).
    deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, kGzipWindowBits, 8, Z_DEFAULT_STRATEGY);
  }
  const auto* next = reinterpret_cast<const Bytef*>(in.data());
  size_t remaining = in.size();
  char buf[kChunk];
  int flush = Z_NO_FLUSH;
  do {
    zs.next_in = const_cast<Bytef*>(next);
    zs.avail_in = clamp_avail(remaining);
    const uInt given = zs.avail_in;
    flush = given == remaining ? Z_FINISH : Z_NO_FLUSH;
    do {
      zs.next_out = reinterpret_cast<Bytef*>(buf);
      zs.avail_out = sizeof(buf);
      deflate(&zs, flush);
      out->append(buf, sizeof(buf) - zs.avail_out);
    } while (zs.avail_out == 0);
    next += given;
    remaining -= given;
  } while (flush != Z_FINISH);
  deflateEnd(&zs);
}

}  // namespace pyrometer::common
