// Trace index: bloom filters (double hashing over XXH3-128) and page fences.
// Layout (versions 1 and 2): docs/storage-format.md §Trace index.
#define XXH_INLINE_ALL
#include "server/store/trace_index.h"

#include <xxhash.h>

#include <algorithm>
#include <cstring>

#include "server/store/column_codec.h"
#include "server/store/crc32c.h"

namespace pyrometer::server::store {
namespace {

void bloom_positions(std::string_view id, uint64_t bits, uint64_t* out) {
  XXH128_hash_t h = XXH3_128bits(id.data(), id.size());
  for (uint32_t i = 0; i < kBloomHashes; ++i) out[i] = (h.low64 + i * h.high64) % bits;
}

std::string make_bloom(uint64_t keys, uint32_t bits_per_key) {
  uint64_t bits = std::max<uint64_t>(64, keys * bits_per_key);
  return std::string((bits + 63) / 64 * 8, '\0');
}

void bloom_add(std::string* bloom, std::string_view id) {
  uint64_t pos[kBloomHashes];
  bloom_positions(id, bloom->size() * 8, pos);
  for (uint64_t p : pos) (*bloom)[p / 8] |= static_cast<char>(1 << (p % 8));
}

bool bloom_has(const std::string& bloom, std::string_view id) {
  uint64_t pos[kBloomHashes];
  bloom_positions(id, bloom.size() * 8, pos);
  for (uint64_t p : pos) {
    if (!(bloom[p / 8] & (1 << (p % 8)))) return false;
  }
  return true;
}

}  // namespace

TraceIndex TraceIndex::build(const Table& spans, int trace_col, uint32_t page_rows,
                             uint32_t segment_pages) {
  TraceIndex idx;
  size_t rows = spans.rows();
  size_t pages = (rows + page_rows - 1) / page_rows;
  size_t seg_rows = segment_pages == 0 ? std::max<size_t>(rows, 1) : segment_pages * page_rows;
  const std::string& ids = spans.col(trace_col).bytes;
  auto id_at = [&](size_t r) { return std::string_view(ids).substr(r * 16, 16); };
  // A run starts at a new id or at a segment start (the order restarts there).
  auto run_start = [&](size_t r) { return r % seg_rows == 0 || id_at(r) != id_at(r - 1); };
  std::vector<uint64_t> seg_traces;
  for (size_t r = 0; r < rows; ++r) {
    if (r % seg_rows == 0) seg_traces.push_back(0);
    if (run_start(r)) ++seg_traces.back();
  }
  for (uint64_t n : seg_traces) idx.trace_count_ += n;
  idx.bloom_ = make_bloom(idx.trace_count_, kBloomBitsPerTrace);
  for (size_t s = 0; s < seg_traces.size(); ++s) {
    Segment seg;
    seg.first_page = static_cast<uint32_t>(s * seg_rows / page_rows);
    size_t end_row = std::min(rows, (s + 1) * seg_rows);
    seg.pages = static_cast<uint32_t>((end_row + page_rows - 1) / page_rows - seg.first_page);
    if (segment_pages != 0) seg.bloom = make_bloom(seg_traces[s], kSegmentBloomBitsPerTrace);
    for (size_t r = s * seg_rows; r < end_row; ++r) {
      if (!run_start(r)) continue;
      bloom_add(&idx.bloom_, id_at(r));
      if (!seg.bloom.empty()) bloom_add(&seg.bloom, id_at(r));
    }
    idx.segments_.push_back(std::move(seg));
  }
  for (size_t p = 0; p < pages; ++p) {
    size_t b = p * page_rows, e = std::min(rows, b + page_rows) - 1;
    idx.fences_.append(ids, b * 16, 16);
    idx.fences_.append(ids, e * 16, 16);
  }
  return idx;
}

size_t TraceIndex::memory_bytes() const {
  size_t n = bloom_.size() + fences_.size();
  for (const auto& s : segments_) n += s.bloom.size() + sizeof(Segment);
  return n;
}

void TraceIndex::serialize(std::string* out, uint16_t version) const {
  size_t start = out->size();
  put_fixed32(out, kTraceIndexMagic);
  out->push_back(static_cast<char>(version & 0xff));
  out->push_back(static_cast<char>(version >> 8));
  out->append(2, '\0');
  put_fixed64(out, trace_count_);
  put_fixed64(out, bloom_.size() * 8);
  put_fixed32(out, kBloomHashes);
  put_fixed32(out, static_cast<uint32_t>(fences_.size() / 32));
  if (version >= 2) {
    put_fixed32(out, static_cast<uint32_t>(segments_.size()));
    put_fixed32(out, 0);  // reserved
  }
  out->append(bloom_);
  out->append(fences_);
  for (const auto& s : segments_) {
    if (version < 2) break;
    put_fixed32(out, s.first_page);
    put_fixed32(out, s.pages);
    put_fixed64(out, s.bloom.size() * 8);
    out->append(s.bloom);
  }
  put_fixed32(out, crc32c(std::string_view(*out).substr(start)));
}

Status TraceIndex::parse(std::string_view in) {
  if (in.size() < 36 || get_fixed32(in.data()) != kTraceIndexMagic) {
    return Status::corruption("trace index: bad magic");
  }
  if (crc32c(in.substr(0, in.size() - 4)) != get_fixed32(in.data() + in.size() - 4)) {
    return Status::corruption("trace index: checksum mismatch");
  }
  uint16_t version =
      static_cast<uint16_t>(static_cast<uint8_t>(in[4]) | (static_cast<uint8_t>(in[5]) << 8));
  if (version != 1 && version != 2) return Status::corruption("trace index: unknown version");
  trace_count_ = get_fixed64(in.data() + 8);
  uint64_t bits = get_fixed64(in.data() + 16);
  uint32_t k = get_fixed32(in.data() + 24);
  uint64_t pages = get_fixed32(in.data() + 28);
  size_t header = version == 1 ? 32 : 40;
  if (in.size() < header + 4 || k != kBloomHashes || bits % 64 != 0 || bits == 0 ||
      bits / 8 > in.size() || pages > in.size() || header + bits / 8 + pages * 32 + 4 > in.size()) {
    return Status::corruption("trace index: bad sizes");
  }
  bloom_.assign(in.substr(header, bits / 8));
  fences_.assign(in.substr(header + bits / 8, pages * 32));
  segments_.clear();
  size_t pos = header + bits / 8 + pages * 32;
  size_t end = in.size() - 4;
  if (version == 1) {
    if (pos != end) return Status::corruption("trace index: bad sizes");
    segments_.push_back({0, static_cast<uint32_t>(pages), {}});
    return Status::ok_status();
  }
  uint32_t n_segments = get_fixed32(in.data() + 32);
  uint64_t next_page = 0;
  for (uint32_t s = 0; s < n_segments; ++s) {
    if (end - pos < 16) return Status::corruption("trace index: segment truncated");
    Segment seg;
    seg.first_page = get_fixed32(in.data() + pos);
    seg.pages = get_fixed32(in.data() + pos + 4);
    uint64_t seg_bits = get_fixed64(in.data() + pos + 8);
    pos += 16;
    // Segments tile the pages in order; each bloom is whole 64-bit words.
    if (seg.first_page != next_page || seg.pages == 0 || seg_bits == 0 || seg_bits % 64 != 0 ||
        seg_bits / 8 > end - pos) {
      return Status::corruption("trace index: bad segment");
    }
    next_page = static_cast<uint64_t>(seg.first_page) + seg.pages;
    seg.bloom.assign(in.substr(pos, seg_bits / 8));
    pos += seg_bits / 8;
    segments_.push_back(std::move(seg));
  }
  if (pos != end || next_page != pages) return Status::corruption("trace index: bad segments");
  return Status::ok_status();
}

bool TraceIndex::may_contain(std::string_view trace_id) const {
  if (bloom_.empty() || trace_id.size() != 16) return false;
  return bloom_has(bloom_, trace_id);
}

void TraceIndex::pages_for(std::string_view trace_id,
                           std::vector<std::pair<size_t, size_t>>* out) const {
  if (trace_id.size() != 16) return;
  for (const Segment& seg : segments_) {
    if (!seg.bloom.empty() && !bloom_has(seg.bloom, trace_id)) continue;
    // Pages of a segment are sorted by id; a trace spans consecutive pages.
    // Binary search the first page whose last id >= trace_id.
    size_t lo = seg.first_page, hi = static_cast<size_t>(seg.first_page) + seg.pages;
    size_t seg_end = hi;
    while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      if (std::memcmp(fences_.data() + mid * 32 + 16, trace_id.data(), 16) < 0) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    bool found = false;
    size_t first = 0, last = 0;
    for (size_t p = lo; p < seg_end; ++p) {
      if (std::memcmp(fences_.data() + p * 32, trace_id.data(), 16) > 0) break;
      if (!found) first = p;
      last = p;
      found = true;
    }
    if (found) out->emplace_back(first, last);
  }
}

}  // namespace pyrometer::server::store
