// Span page index of a block (format version 2): per column page of the span
// table, the min/max span start, which services occur and which SpanClass
// bits any row has, so a scan reads only the pages its window and predicates
// can match. Kept in memory (28 bytes per 4096 spans).
// Layout: docs/storage-format.md §Span page index.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "server/store/table.h"

namespace pyrometer::server::store {

inline constexpr uint32_t kPageIndexMagic = 0x58495050;  // bytes 'P','P','I','X'
inline constexpr uint16_t kPageIndexVersion = 1;
inline constexpr size_t kPageSummarySize = 28;
// Services past the 63rd (by name) share the mask's top bit.
inline constexpr size_t kPageIndexServiceBits = 64;

struct SpanPageSummary {
  uint64_t min_start = 0, max_start = 0;  // over the page's rows
  uint64_t service_mask = 0;              // bit i: service i of SpanPageIndex::services
  uint32_t classes = 0;                   // OR of the rows' SpanClass bits
  bool operator==(const SpanPageSummary&) const = default;
};

// Immutable after build/parse; thread-safe to read.
class SpanPageIndex {
 public:
  // `spans`: the block's span table in block order, with its full dictionary;
  // `classes`: SpanClass bits per row (the spans.classes column).
  static SpanPageIndex build(const Table& spans, const std::vector<uint64_t>& classes,
                             uint32_t page_rows);
  void serialize(std::string* out) const;
  // Corruption on a bad magic, version, size or CRC.
  Status parse(std::string_view in);

  uint32_t page_rows() const { return page_rows_; }
  const std::vector<SpanPageSummary>& pages() const { return pages_; }
  // The mask bit and dictionary id of a service; false when no span has it.
  bool service(std::string_view name, uint64_t* bit, uint32_t* dict_id) const;
  size_t memory_bytes() const { return pages_.size() * sizeof(SpanPageSummary) + 64; }

 private:
  uint32_t page_rows_ = 0;
  std::vector<std::pair<std::string, uint32_t>> services_;  // sorted by name
  std::vector<SpanPageSummary> pages_;
};

}  // namespace pyrometer::server::store
