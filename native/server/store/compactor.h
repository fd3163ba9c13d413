// Compactor: plans merges of runs of adjacent small blocks and writes each
// merged block. Fewer, larger blocks compress better (bigger dictionaries
// and zstd windows, one RLE trace id per trace) and make scans cheaper.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "server/store/block_meta.h"
#include "server/store/block_reader.h"
#include "server/store/file_ops.h"

namespace pyrometer::server::store {

struct CompactionLimits {
  uint64_t max_span_rows = 4'000'000;
  uint64_t max_duration_nanos = 2ull * 3600 * 1000000000ull;
};

// Runs (>= 2 blocks, adjacent in time order) whose merge stays within limits,
// once closed (the next block would not fit) or kMinOpenRunBlocks long.
inline constexpr size_t kMinOpenRunBlocks = 4;
std::vector<std::vector<std::shared_ptr<Block>>> plan_compactions(
    const std::vector<std::shared_ptr<Block>>& blocks, const CompactionLimits& limits);

// Reads every input fully (CRC-checked) and writes their union as block `id`.
// Corruption in an input fails the merge; inputs are left untouched.
Status merge_blocks(const std::string& blocks_dir, uint64_t id,
                    const std::vector<std::shared_ptr<Block>>& inputs, FileOps* ops,
                    BlockMeta* meta);

}  // namespace pyrometer::server::store
