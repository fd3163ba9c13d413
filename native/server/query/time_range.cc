// Parsing of since/until/step query parameters: RFC 3339, relative offsets
// and durations, without locale- or timezone-dependent libc calls.
#include "server/query/time_range.h"

#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>

namespace pyrometer::server::query {

namespace {

using common::Status;

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civil_from_days(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

bool digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

bool parse_rfc3339(std::string_view s, uint64_t* out) {
  int year, month, day, hour, minute, second;
  if (!digits(s, 0, 4, &year) || s.size() < 19 || s[4] != '-' || !digits(s, 5, 2, &month) ||
      s[7] != '-' || !digits(s, 8, 2, &day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !digits(s, 11, 2, &hour) || s[13] != ':' || !digits(s, 14, 2, &minute) || s[16] != ':' ||
      !digits(s, 17, 2, &second)) {
    return false;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return false;
  }
  size_t pos = 19;
  uint64_t frac = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t n = 0;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
      if (n < 9) frac = frac * 10 + static_cast<uint64_t>(s[pos] - '0');
      ++n;
      ++pos;
    }
    if (n == 0) return false;
    for (size_t i = n; i < 9; ++i) frac *= 10;
  }
  int64_t offset_s = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!digits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !digits(s, pos + 4, 2, &om) || oh > 23 || om > 59) {
      return false;
    }
    offset_s = (oh * 3600 + om * 60) * (s[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return false;  // RFC 3339 requires an offset
  }
  if (pos != s.size()) return false;
  int64_t secs =
      days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
      hour * 3600 + minute * 60 + second - offset_s;
  if (secs < 0) return false;
  *out = static_cast<uint64_t>(secs) * kNanosPerSecond + frac;
  return true;
}

}  // namespace

Status parse_duration(std::string_view text, uint64_t* out_nanos) {
  std::string s(text);
  size_t unit_pos = 0;
  while (unit_pos < s.size() &&
         (std::isdigit(static_cast<unsigned char>(s[unit_pos])) || s[unit_pos] == '.')) {
    ++unit_pos;
  }
  std::string number = s.substr(0, unit_pos), unit = s.substr(unit_pos);
  double mult = 0;
  if (unit == "ns")
    mult = 1;
  else if (unit == "us")
    mult = 1e3;
  else if (unit == "ms")
    mult = 1e6;
  else if (unit == "s")
    mult = 1e9;
  else if (unit == "m")
    mult = 60e9;
  else if (unit == "h")
    mult = 3600e9;
  else if (unit == "d")
    mult = 86400e9;
  else if (unit == "w")
    mult = 7 * 86400e9;
  char* end = nullptr;
  double v = number.empty() ? -1 : std::strtod(number.c_str(), &end);
  if (mult == 0 || v < 0 || end == nullptr || *end != '\0' || !std::isfinite(v * mult) ||
      v * mult >= 1.8e19) {
    return Status::invalid_argument("\"" + std::string(text.substr(0, 64)) +
                                    "\" is not a duration like 250ms, 15s, 5m, 1h or 7d");
  }
  *out_nanos = static_cast<uint64_t>(std::llround(v * mult));
  return Status::ok_status();
}

Status parse_time_point(std::string_view text, uint64_t now, uint64_t* out) {
  if (text == "now") {
    *out = now;
    return Status::ok_status();
  }
  if (!text.empty() && text[0] == '-') {
    uint64_t d = 0;
    Status st = parse_duration(text.substr(1), &d);
    if (!st.ok()) {
      return Status::invalid_argument("\"" + std::string(text.substr(0, 64)) +
                                      "\" is not a relative time like -15m, -1h or -7d");
    }
    *out = d >= now ? 0 : now - d;
    return Status::ok_status();
  }
  bool all_digits = !text.empty() && text.size() <= 19;
  for (char c : text) all_digits = all_digits && std::isdigit(static_cast<unsigned char>(c));
  if (all_digits) {
    *out = std::strtoull(std::string(text).c_str(), nullptr, 10);
    return Status::ok_status();
  }
  if (parse_rfc3339(text, out)) return Status::ok_status();
  return Status::invalid_argument(
      "\"" + std::string(text.substr(0, 64)) +
      "\" is not a time: use RFC 3339 (2026-01-02T15:04:05Z), a relative time (-1h), now, "
      "or unix nanoseconds");
}

Status parse_time_range(const http::Request& rq, uint64_t now, TimeRange* out) {
  bool has_since = false, has_until = false;
  std::string since = rq.query_param("since", &has_since);
  std::string until = rq.query_param("until", &has_until);
  uint64_t end = now;
  if (has_until && !until.empty()) {
    Status st = parse_time_point(until, now, &end);
    if (!st.ok()) return Status::invalid_argument("until: " + st.message());
  }
  uint64_t start = end > kDefaultRangeNanos ? end - kDefaultRangeNanos : 0;
  if (has_since && !since.empty()) {
    Status st = parse_time_point(since, now, &start);
    if (!st.ok()) return Status::invalid_argument("since: " + st.message());
  }
  if (start >= end) {
    return Status::invalid_argument("since (" + format_rfc3339(start) + ") must be before until (" +
                                    format_rfc3339(end) + ")");
  }
  out->start_unix_nano = start;
  out->end_unix_nano = end;
  return Status::ok_status();
}

uint64_t now_unix_nano() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

std::string format_rfc3339(uint64_t unix_nano) {
  int64_t secs = static_cast<int64_t>(unix_nano / kNanosPerSecond);
  uint64_t frac = unix_nano % kNanosPerSecond;
  int64_t y;
  unsigned m, d;
  civil_from_days(secs / 86400, &y, &m, &d);
  int64_t rem = secs % 86400;
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld",
                        static_cast<long long>(y), m, d, static_cast<long long>(rem / 3600),
                        static_cast<long long>(rem / 60 % 60), static_cast<long long>(rem % 60));
  std::string out(buf, static_cast<size_t>(n));
  if (frac != 0) {
    char f[16];
    std::snprintf(f, sizeof f, ".%09llu", static_cast<unsigned long long>(frac));
    std::string fs(f);
    while (fs.back() == '0') fs.pop_back();
    out += fs;
  }
  return out + "Z";
}

}  // namespace pyrometer::server::query
