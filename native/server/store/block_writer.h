// Block writer: turns a frozen head (or the merged contents of blocks being
// compacted) into an immutable block directory, written under a temporary
// name, fsynced, then renamed into place so a crash leaves all or nothing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "server/store/block_meta.h"
#include "server/store/file_ops.h"
#include "server/store/profile_merge.h"
#include "server/store/rollup.h"
#include "server/store/table.h"

namespace pyrometer::server::store {

// Whole-file wrapper for non-column files (dictionaries, rollups, profiles):
// magic u32 "PBLB" | version u16 | reserved u16 | raw_len u64 | zstd frame | crc32c u32.
inline constexpr uint32_t kBlobFileMagic = 0x424C4250;  // bytes 'P','B','L','B'
inline constexpr uint16_t kBlobFileVersion = 1;
void encode_blob_file(std::string_view raw, std::string* out);
Status decode_blob_file(std::string_view file, std::string* raw);

// Span rows of a version-2 block are cut, in start-time order, into segments
// of this many pages; each segment is sorted by (trace id, start). A time
// window then reads only the segments it overlaps, and a trace's spans still
// sit together (run-length trace ids, one or two pages per trace lookup).
inline constexpr uint32_t kSpanSegmentPages = 16;

// The per-row SpanClass bits column of a version-2 block (spans.classes).
const TableSchema& span_classes_schema();

struct BlockInput {
  const Table* spans = nullptr;  // any order; the writer sorts (see kSpanSegmentPages)
  const Table* logs = nullptr;
  const Table* metrics = nullptr;
  const RollupSet* rollups = nullptr;
  const ProfileSet* profiles = nullptr;
  uint64_t wal_seq_end = 0;
  std::vector<uint64_t> parents;  // compaction inputs
  // kBlockMetaVersion, or 1 to write the previous format (compatibility tests).
  uint16_t format_version = kBlockMetaVersion;
  // True: the per-trace profile index stays inside `profiles` (the layout
  // before profiles.traces; compatibility tests only).
  bool legacy_profile_traces = false;
};

std::string block_dir_name(uint64_t id);

// Writes block `id` into `blocks_dir`/<16 hex digits>/ and fills `meta`.
// On failure nothing is left under the final name (the temp dir is removed).
Status write_block(const std::string& blocks_dir, uint64_t id, const BlockInput& in, FileOps* ops,
                   BlockMeta* meta);

// Removes a directory and its files (blocks are flat). Best effort.
void remove_dir(const std::string& dir);

}  // namespace pyrometer::server::store
