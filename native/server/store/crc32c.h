// CRC32C (Castagnoli) for every checksum in the WAL and blocks: the same
// polynomial as iSCSI/ext4/LevelDB, so external tools can verify our files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace pyrometer::server::store {

// Extends `crc` (0 for a fresh checksum) with `data`. Thread-safe.
uint32_t crc32c_extend(uint32_t crc, const void* data, size_t n);
// The table-driven version crc32c_extend uses on CPUs without SSE4.2 (exposed
// so tests can check both paths agree).
uint32_t crc32c_extend_portable(uint32_t crc, const void* data, size_t n);
inline uint32_t crc32c(std::string_view data) { return crc32c_extend(0, data.data(), data.size()); }

}  // namespace pyrometer::server::store
