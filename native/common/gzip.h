// gzip compression and bounded decompression on zlib: request bodies
// (Content-Encoding: gzip) and pprof profiles, which are gzip-wrapped by convention.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace pyrometer::common {

// Decompresses a gzip stream (RFC 1952; concatenated members are joined, as
// gzip(1) does) and appends the result to *out. Returns too_large as soon as
// the output would exceed `max_out` bytes (a decompression bomb costs at most
// max_out of memory), invalid_argument for a corrupt, truncated or non-gzip
// input or trailing garbage. On failure *out holds a partial result.
// Thread-safety: reentrant.
Status gunzip(std::string_view in, size_t max_out, std::string* out);

// Appends the gzip encoding of `in` to *out; `level` is zlib's 0..9, or -1 for
// zlib's default (6); an out-of-range level means the default. Cannot fail
// (allocation failure throws std::bad_alloc like any std::string append).
void gzip(std::string_view in, std::string* out, int level = -1);

// True when `data` starts with the gzip magic bytes 1f 8b.
inline bool looks_gzipped(std::string_view data) {
  return data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f &&
         static_cast<unsigned char>(data[1]) == 0x8b;
}

}  // namespace pyrometer::common
