// Time ranges of query parameters: `since`/`until` as RFC 3339 timestamps or
// relative offsets from now ("-1h", "-15m", "now"), and durations ("5m").
#pragma once

#include <cstdint>
#include <string_view>

#include "common/status.h"
#include "server/http/handler.h"

namespace pyrometer::server::query {

inline constexpr uint64_t kNanosPerSecond = 1000ull * 1000 * 1000;
inline constexpr uint64_t kDefaultRangeNanos = 3600 * kNanosPerSecond;  // last hour

// [start, end) in unix nanoseconds; start < end when returned by parse_time_range.
struct TimeRange {
  uint64_t start_unix_nano = 0;
  uint64_t end_unix_nano = 0;
  double seconds() const { return static_cast<double>(end_unix_nano - start_unix_nano) / 1e9; }
};

// Parses a duration: a non-negative decimal number followed by a unit
// (ns, us, ms, s, m, h, d, w), e.g. "250ms", "1.5h". InvalidArgument otherwise.
common::Status parse_duration(std::string_view text, uint64_t* out_nanos);

// Parses a point in time relative to `now_unix_nano`: "now", "-<duration>"
// ("-1h"), an RFC 3339 timestamp ("2026-11-24T23:59:22.5Z", "...+01:00"), or
// integer unix nanoseconds. InvalidArgument with a message naming the input.
common::Status parse_time_point(std::string_view text, uint64_t now_unix_nano, uint64_t* out);

// Reads `since` and `until` from the request; defaults: until = now,
// since = until - 1h. InvalidArgument (message names the parameter) when a
// value does not parse or since >= until.
common::Status parse_time_range(const http::Request& request, uint64_t now_unix_nano,
                                TimeRange* out);

// Wall clock now, in unix nanoseconds.
uint64_t now_unix_nano();

// RFC 3339 UTC text with nanoseconds trimmed of trailing zeros.
std::string format_rfc3339(uint64_t unix_nano);

}  // namespace pyrometer::server::query
