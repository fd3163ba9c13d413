// Retention policy implementation.
#include "server/store/retention.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

namespace pyrometer::server::store {

std::vector<std::shared_ptr<Block>> select_expired_blocks(
    const std::vector<std::shared_ptr<Block>>& blocks, const RetentionPolicy& policy) {
  std::vector<std::shared_ptr<Block>> by_age = blocks;
  std::sort(by_age.begin(), by_age.end(), [](const auto& a, const auto& b) {
    return a->meta().max_time != b->meta().max_time ? a->meta().max_time < b->meta().max_time
                                                    : a->id() < b->id();
  });
  std::vector<std::shared_ptr<Block>> out;
  uint64_t total = policy.other_disk_bytes;
  for (const auto& b : by_age) total += b->meta().disk_bytes();
  uint64_t cutoff = policy.retention_nanos && policy.now_unix_nano > policy.retention_nanos
                        ? policy.now_unix_nano - policy.retention_nanos
                        : 0;
  for (const auto& b : by_age) {
    bool old = b->meta().max_time < cutoff;
    bool over = policy.max_disk_bytes && total > policy.max_disk_bytes;
    if (!old && !over) break;
    out.push_back(b);
    total -= b->meta().disk_bytes();
  }
  return out;
}

std::string rollup_file_name(uint64_t block_id, uint64_t max_minute_unix_nano) {
  char name[64];
  std::snprintf(name, sizeof name, "%016" PRIx64 "-%llu.rollup", block_id,
                static_cast<unsigned long long>(max_minute_unix_nano / 1000000000ull));
  return name;
}

bool parse_rollup_file_name(const std::string& name, uint64_t* block_id,
                            uint64_t* max_minute_unix_nano) {
  unsigned long long id = 0, secs = 0;
  int consumed = 0;
  if (std::sscanf(name.c_str(), "%16llx-%llu.rollup%n", &id, &secs, &consumed) != 2 ||
      static_cast<size_t>(consumed) != name.size()) {
    return false;
  }
  *block_id = id;
  *max_minute_unix_nano = secs * 1000000000ull;
  return true;
}

}  // namespace pyrometer::server::store
