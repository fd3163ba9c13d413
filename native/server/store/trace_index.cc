// Trace index: bloom filter (double hashing over XXH3-128) and page fences.
#define XXH_INLINE_ALL
#include "server/store/trace_index.h"

#include <xxhash.h>

#include <cstring>

#include "server/store/column_codec.h"
#include "server/store/crc32c.h"

namespace pyrometer::server::store {
namespace {

void bloom_positions(std::string_view id, uint64_t bits, uint64_t* out) {
  XXH128_hash_t h = XXH3_128bits(id.data(), id.size());
  for (uint32_t i = 0; i < kBloomHashes; ++i) out[i] = (h.low64 + i * h.high64) % bits;
}

}  // namespace

TraceIndex TraceIndex::build(const Table& spans, int trace_col, uint32_t page_rows) {
  TraceIndex idx;
  size_t rows = spans.rows();
  const std::string& ids = spans.col(trace_col).bytes;
  uint64_t traces = 0;
  for (size_t r = 0; r < rows; ++r) {
    if (r == 0 || std::memcmp(ids.data() + r * 16, ids.data() + (r - 1) * 16, 16) != 0) ++traces;
  }
  idx.trace_count_ = traces;
  uint64_t bits = std::max<uint64_t>(64, traces * kBloomBitsPerTrace);
  bits = (bits + 63) / 64 * 64;
  idx.bloom_.assign(bits / 8, '\0');
  uint64_t pos[kBloomHashes];
  for (size_t r = 0; r < rows; ++r) {
    if (r != 0 && std::memcmp(ids.data() + r * 16, ids.data() + (r - 1) * 16, 16) == 0) continue;
    bloom_positions(std::string_view(ids).substr(r * 16, 16), bits, pos);
    for (uint64_t p : pos) idx.bloom_[p / 8] |= static_cast<char>(1 << (p % 8));
  }
  for (size_t b = 0; b < rows; b += page_rows) {
    size_t e = std::min(rows, b + page_rows) - 1;
    idx.fences_.append(ids, b * 16, 16);
    idx.fences_.append(ids, e * 16, 16);
  }
  return idx;
}

void TraceIndex::serialize(std::string* out) const {
  size_t start = out->size();
  put_fixed32(out, kTraceIndexMagic);
  out->push_back(static_cast<char>(kTraceIndexVersion & 0xff));
  out->push_back(static_cast<char>(kTraceIndexVersion >> 8));
  out->append(2, '\0');
  put_fixed64(out, trace_count_);
  put_fixed64(out, bloom_.size() * 8);
  put_fixed32(out, kBloomHashes);
  put_fixed32(out, static_cast<uint32_t>(fences_.size() / 32));
  out->append(bloom_);
  out->append(fences_);
  put_fixed32(out, crc32c(std::string_view(*out).substr(start)));
}

Status TraceIndex::parse(std::string_view in) {
  if (in.size() < 36 || get_fixed32(in.data()) != kTraceIndexMagic) {
    return Status::corruption("trace index: bad magic");
  }
  if (crc32c(in.substr(0, in.size() - 4)) != get_fixed32(in.data() + in.size() - 4)) {
    return Status::corruption("trace index: checksum mismatch");
  }
  trace_count_ = get_fixed64(in.data() + 8);
  uint64_t bits = get_fixed64(in.data() + 16);
  uint32_t k = get_fixed32(in.data() + 24);
  uint64_t pages = get_fixed32(in.data() + 28);
  if (k != kBloomHashes || bits % 64 != 0 || bits == 0 ||
      32 + bits / 8 + pages * 32 + 4 != in.size()) {
    return Status::corruption("trace index: bad sizes");
  }
  bloom_.assign(in.substr(32, bits / 8));
  fences_.assign(in.substr(32 + bits / 8, pages * 32));
  return Status::ok_status();
}

bool TraceIndex::may_contain(std::string_view trace_id) const {
  if (bloom_.empty()) return false;
  uint64_t pos[kBloomHashes];
  bloom_positions(trace_id, bloom_.size() * 8, pos);
  for (uint64_t p : pos) {
    if (!(bloom_[p / 8] & (1 << (p % 8)))) return false;
  }
  return true;
}

bool TraceIndex::pages_for(std::string_view trace_id, size_t* first, size_t* last) const {
  size_t pages = fences_.size() / 32;
  bool found = false;
  // Pages are sorted by id; a trace spans consecutive pages. Binary search the
  // first page whose last id >= trace_id.
  size_t lo = 0, hi = pages;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (std::memcmp(fences_.data() + mid * 32 + 16, trace_id.data(), 16) < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  for (size_t p = lo; p < pages; ++p) {
    if (std::memcmp(fences_.data() + p * 32, trace_id.data(), 16) > 0) break;
    if (!found) *first = p;
    *last = p;
    found = true;
  }
  return found;
}

}  // namespace pyrometer::server::store
