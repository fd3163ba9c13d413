// Trace index of a block: a bloom filter over its trace ids plus, per column
// page, the first and last trace id (rows are sorted by trace id). Kept in
// memory for every block: ~1.25 bytes per trace + 32 bytes per 4096 spans, so
// find_trace asks each block's bloom (~100 ns) and opens only the 1% false
// positives plus the blocks that hold the trace, decoding one or two pages.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "server/store/table.h"

namespace pyrometer::server::store {

inline constexpr uint32_t kTraceIndexMagic = 0x58495450;  // bytes 'P','T','I','X'
inline constexpr uint16_t kTraceIndexVersion = 1;
inline constexpr uint32_t kBloomBitsPerTrace = 10;  // ~1% false positives with k = 7
inline constexpr uint32_t kBloomHashes = 7;

class TraceIndex {
 public:
  // Builds from a span table sorted by trace id (`trace_col` is its id column).
  static TraceIndex build(const Table& spans, int trace_col, uint32_t page_rows);
  void serialize(std::string* out) const;
  Status parse(std::string_view in);

  bool may_contain(std::string_view trace_id) const;
  // Pages [*first, *last] whose id range covers trace_id; false if none.
  bool pages_for(std::string_view trace_id, size_t* first, size_t* last) const;
  uint64_t trace_count() const { return trace_count_; }
  size_t memory_bytes() const { return bloom_.size() + fences_.size(); }

 private:
  uint64_t trace_count_ = 0;
  std::string bloom_;   // bit array, size a multiple of 8 bytes
  std::string fences_;  // per page: first id (16) | last id (16)
};

}  // namespace pyrometer::server::store
