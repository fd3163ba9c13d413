// Block meta: the small file that describes a block (time range, row counts,
// summary for skipping, WAL coverage, and the size + CRC32C of every other
// file). Read at open for every block. Layout: docs/storage-format.md §meta.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace pyrometer::server::store {

using common::Status;

inline constexpr uint32_t kBlockMetaMagic = 0x4B4C4250;  // bytes 'P','B','L','K'
// Version 2: span rows in time segments, spans.classes, spans.page_index and
// a version-2 trace index. Version 1 blocks are still read (whole-block scans).
inline constexpr uint16_t kBlockMetaVersion = 2;
inline constexpr size_t kMetaMaxNames = 4096;  // more span names: names_complete = false

struct BlockFile {
  std::string name;
  uint64_t size = 0;
  uint32_t crc = 0;
};

struct BlockMeta {
  uint16_t version = kBlockMetaVersion;  // format of the block (1 or 2)
  uint64_t id = 0;
  uint64_t min_time = 0,
           max_time = 0;     // over span starts, log and metric times, rollup/profile minutes
  uint64_t wal_seq_end = 0;  // WAL segments < this are contained in blocks <= id
  uint64_t span_rows = 0, log_rows = 0, metric_rows = 0, trace_count = 0;
  uint64_t rollup_rows = 0, profile_rows = 0;
  std::vector<std::string> services;    // every service.name in the block
  std::vector<std::string> span_names;  // up to kMetaMaxNames
  bool names_complete = true;
  std::vector<BlockFile> files;
  // Blocks this one was compacted from: if any still exists at open, the
  // compaction finished but its inputs were not yet deleted; they are then.
  std::vector<uint64_t> parents;

  uint64_t disk_bytes() const;
  const BlockFile* file(std::string_view name) const;
  void serialize(std::string* out) const;
  Status parse(std::string_view in);
};

}  // namespace pyrometer::server::store
