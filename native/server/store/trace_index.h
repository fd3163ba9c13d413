// Trace index of a block: a bloom filter over its trace ids plus, per column
// page, the first and last trace id, and (version 2) one more bloom per time
// segment. Kept in memory for every block: ~2.8 bytes per trace + 32 bytes
// per 4096 spans, so find_trace asks each block's bloom (~100 ns) and decodes
// one or two pages of each segment whose own bloom holds the trace.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "server/store/table.h"

namespace pyrometer::server::store {

inline constexpr uint32_t kTraceIndexMagic = 0x58495450;   // bytes 'P','T','I','X'
inline constexpr uint16_t kTraceIndexVersion = 2;          // 1 is still read
inline constexpr uint32_t kBloomBitsPerTrace = 10;         // ~1% false positives with k = 7
inline constexpr uint32_t kSegmentBloomBitsPerTrace = 12;  // ~0.3% with k = 7
inline constexpr uint32_t kBloomHashes = 7;

class TraceIndex {
 public:
  // Builds from a span table whose rows are sorted by trace id within each
  // segment of `segment_pages` pages of `page_rows` rows (`trace_col` is its
  // id column); segment_pages = 0 means one segment (the version 1 order).
  static TraceIndex build(const Table& spans, int trace_col, uint32_t page_rows,
                          uint32_t segment_pages);
  // Version 1 (no segment blooms) only for an index built with segment_pages
  // = 0; it exists so tests can write the previous format.
  void serialize(std::string* out, uint16_t version = kTraceIndexVersion) const;
  Status parse(std::string_view in);  // versions 1 and 2

  bool may_contain(std::string_view trace_id) const;
  // Page ranges [first, last] (inclusive, ascending) whose id fences cover
  // trace_id: at most one range per segment whose bloom may hold it.
  void pages_for(std::string_view trace_id, std::vector<std::pair<size_t, size_t>>* out) const;
  uint64_t trace_count() const { return trace_count_; }
  size_t segment_count() const { return segments_.size(); }
  size_t memory_bytes() const;

 private:
  struct Segment {
    uint32_t first_page = 0, pages = 0;
    std::string bloom;  // empty: no per-segment filter (version 1)
  };
  uint64_t trace_count_ = 0;  // runs of one trace id (a trace split by a segment counts twice)
  std::string bloom_;         // bit array, size a multiple of 8 bytes
  std::string fences_;        // per page: first id (16) | last id (16)
  std::vector<Segment> segments_;
};

}  // namespace pyrometer::server::store
