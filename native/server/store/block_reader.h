// Block reader: an opened immutable block. Keeps only meta and trace index in
// memory; column pages, dictionaries, rollups and profiles are read from disk
// on demand and checked against their CRC32C. Any mismatch is Corruption,
// which the store reports and answers by skipping the block.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "server/store/block_meta.h"
#include "server/store/block_page_index.h"
#include "server/store/profile_merge.h"
#include "server/store/rollup.h"
#include "server/store/store.h"
#include "server/store/table.h"
#include "server/store/trace_index.h"

namespace pyrometer::server::store {

enum class BlockTable : uint8_t { kSpans, kLogs, kMetrics };

// Thread-safe after open (all methods const, no mutable state).
class Block {
 public:
  // Reads and verifies meta and the trace index of the block directory `dir`.
  static Status open(const std::string& dir, std::shared_ptr<Block>* out);

  const BlockMeta& meta() const { return meta_; }
  const std::string& dir() const { return dir_; }
  uint64_t id() const { return meta_.id; }
  bool overlaps(uint64_t start, uint64_t end) const {
    return meta_.max_time >= start && meta_.min_time < end;
  }
  bool has_service(std::string_view s) const;
  bool may_have_span_name(std::string_view name) const;
  bool may_contain_trace(std::string_view trace_id) const { return index_.may_contain(trace_id); }
  size_t memory_bytes() const {
    return index_.memory_bytes() + page_index_.memory_bytes() + sizeof(*this);
  }
  // Version 2 blocks: per-page time fences and summaries (empty for version 1).
  const SpanPageIndex& page_index() const { return page_index_; }

  // Spans of one trace: bloom → segment blooms → page fences → decode those pages only.
  Status find_trace(std::string_view trace_id, std::vector<SpanRow>* out) const;
  // Visits the block's spans matching `f` (block order). Version 2 blocks
  // read only pages whose time fences and summaries can match, decode the
  // filter columns first and the rest only for pages with a match, and
  // fetch only the dictionary pages the visited rows reference; version 1
  // blocks are decoded whole. Sets *stopped when `visit` returned false.
  // Corruption (page or dictionary CRC) stops the scan of this block; rows
  // already visited stay visited.
  Status scan_spans(const SpanFilter& f, const std::function<bool(const SpanRow&)>& visit,
                    bool* stopped) const;
  // Reads a whole table (every file's CRC checked against meta).
  Status read_table(BlockTable which, Table* out) const;
  Status read_rollups(RollupSet* out) const;
  // Merged rows and the whole per-trace index (from profiles.traces, or from
  // inside `profiles` in older blocks) into `out`.
  Status read_profiles(ProfileSet* out) const;
  // Only `trace_id`'s (16 raw bytes) per-span profile rows into `out`: one
  // chunk of profiles.traces, or, in older blocks, `profiles` with its
  // merged rows skipped.
  Status read_trace_profiles(std::string_view trace_id, ProfileSet* out) const;
  bool has_profiles() const;
  // Checks the CRC32C of every file listed in meta.
  Status verify() const;

 private:
  Status read_dict(const std::string& table, std::shared_ptr<Dictionary>* out) const;
  Status read_checked(const std::string& name, std::string* data) const;
  Status read_pages(const TableSchema& schema, size_t first, size_t last, Table* out) const;
  Status scan_spans_whole(const SpanFilter& f, const std::function<bool(const SpanRow&)>& visit,
                          bool* stopped) const;

  std::string dir_;
  BlockMeta meta_;
  TraceIndex index_;
  SpanPageIndex page_index_;
};

}  // namespace pyrometer::server::store
