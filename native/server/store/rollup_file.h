// Rollup files in <data_dir>/rollups/: a block's rollups kept after retention
// deleted the block, and merged files that replace many of them (compaction).
// Layout: docs/storage-format.md §Rollup files.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "server/store/rollup.h"

namespace pyrometer::server::store {

using common::Status;

// Merged rollup file header: magic (u32 LE "PRLM") | version (u16) | reserved (u16).
inline constexpr uint32_t kMergedRollupMagic = 0x4D4C5250;  // bytes 'P','R','L','M'
inline constexpr uint16_t kMergedRollupVersion = 1;

// One file of rollups/ as named by rollup_file_name(): the id of the block it
// came from (or, for a merged file, a fresh block id) and its newest minute.
struct RollupFileInfo {
  std::string name;
  uint64_t id = 0;
  uint64_t max_minute_unix_nano = 0;
};

// The parseable *.rollup files of `dir`, by name.
std::vector<RollupFileInfo> list_rollup_files(const std::string& dir);

// Encodes a merged file holding `set`, which replaces the files `parents`.
void encode_merged_rollup_file(const std::vector<uint64_t>& parents, const RollupSet& set,
                               std::string* out);

// Reads either kind of rollup file (a block's "rollups" blob file, or a merged
// file) and merges its rows into `into`. Corruption on a bad magic, CRC or
// payload; `into` may then hold part of the file.
Status read_rollup_file(std::string_view file, RollupSet* into);

// The ids a merged file replaces (empty for a block's file). CRC-checked; the
// payload is not decompressed.
Status rollup_file_parents(std::string_view file, std::vector<uint64_t>* parents);

// Which files to merge: per UTC window of `window_nanos` (by each file's
// newest minute), the files of every window that ended at or before `now`,
// when it has two or more. Groups are in name order, as is each group.
std::vector<std::vector<RollupFileInfo>> plan_rollup_merges(
    const std::vector<RollupFileInfo>& files, uint64_t window_nanos, uint64_t now_unix_nano);

}  // namespace pyrometer::server::store
