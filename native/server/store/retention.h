// Retention policy: which whole blocks to delete, by age and by disk budget,
// oldest first. Pure functions, so the policy is tested without a filesystem.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "server/store/block_reader.h"

namespace pyrometer::server::store {

struct RetentionPolicy {
  uint64_t now_unix_nano = 0;
  uint64_t retention_nanos = 0;   // 0 = keep forever
  uint64_t max_disk_bytes = 0;    // 0 = no budget
  uint64_t other_disk_bytes = 0;  // WAL + rollup files, counted against the budget
};

// Blocks to delete: every block whose newest data is older than the
// retention, then the oldest remaining blocks until the budget holds.
std::vector<std::shared_ptr<Block>> select_expired_blocks(
    const std::vector<std::shared_ptr<Block>>& blocks, const RetentionPolicy& policy);

// Rollup files outlive their blocks: rollups/<block id hex>-<max minute unix seconds>.rollup.
std::string rollup_file_name(uint64_t block_id, uint64_t max_minute_unix_nano);
// Parses a rollup file name; false if `name` is not one.
bool parse_rollup_file_name(const std::string& name, uint64_t* block_id,
                            uint64_t* max_minute_unix_nano);

}  // namespace pyrometer::server::store
