// The block file `profiles.traces`: the per-trace profile index split into one
// compressed chunk per trace behind a sorted trace-id table, so a lookup reads one chunk.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "server/store/profile_trace_index.h"

namespace pyrometer::server::store {

inline constexpr std::string_view kProfileTraceFileName = "profiles.traces";
inline constexpr std::string_view kProfileTraceFileMagic = "PTF1";
inline constexpr size_t kProfileTraceFileHeader = 8;  // magic + u32 LE trace count
inline constexpr size_t kProfileTraceFileEntry = 32;  // id 16, u64 offset, u32 length, u32 crc

// Writes `index` as a profiles.traces file (layout in docs/storage-format.md)
// to `out` (replaced). Writes only the 8-byte header when `index` is empty.
void write_profile_trace_file(const ProfileTraceIndex& index, std::string* out);

// Merges every chunk of a whole file (compaction, full block reads) into
// `into`. Corruption on a malformed file or a chunk CRC mismatch.
Status parse_profile_trace_file(std::string_view file, ProfileTraceIndex* into);

// Trace lookups: reads the header, binary-searches the table with small
// positioned reads and reads, CRC-checks and merges only `trace_id`'s (16
// raw bytes) chunk into `into`. OK with nothing merged when the trace is
// absent; IoError when the file cannot be read; Corruption when malformed.
// Thread-safe (no shared state).
Status read_profile_trace_file_one(const std::string& path, std::string_view trace_id,
                                   ProfileTraceIndex* into);

}  // namespace pyrometer::server::store
