// The agent's one call into the common SQL normaliser: statement text →
// (normalised text, 64-bit fingerprint) for the per-statement RED aggregates.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pyrometer::agent {

// Writes the normalised statement (common::normalize_sql: literals → ?,
// whitespace folded; at most kMaxSummaryBytes kept) to *normalized and returns
// the fingerprint of the full normalised text. `db_system` picks the dialect
// (mysql/mariadb quote and escape differently). Thread-safe; allocates only
// when *normalized must grow.
uint64_t sql_fingerprint(std::string_view text, std::string_view db_system,
                         std::string* normalized);

inline constexpr size_t kMaxSummaryBytes = 1024;

}  // namespace pyrometer::agent
