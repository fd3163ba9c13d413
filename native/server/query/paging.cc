// limit/cursor parsing. The cursor is "p1" + hex offset, checksummed so a
// hand-edited or truncated cursor is refused instead of silently misread.
#include "server/query/paging.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace pyrometer::server::query {

namespace {

constexpr uint32_t kCursorSalt = 0x9e3779b9u;

uint32_t check_of(uint64_t offset) {
  uint64_t x = (offset ^ kCursorSalt) * 0x9e3779b97f4a7c15ull;
  return static_cast<uint32_t>(x >> 40) & 0xffffu;
}

}  // namespace

std::string encode_cursor(size_t offset) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "p1%llx.%04x", static_cast<unsigned long long>(offset),
                check_of(offset));
  return buf;
}

bool decode_cursor(const std::string& cursor, size_t* offset) {
  if (cursor.size() < 8 || cursor.compare(0, 2, "p1") != 0) return false;
  size_t dot = cursor.find('.');
  if (dot == std::string::npos || dot == 2 || cursor.size() - dot != 5) return false;
  char* end = nullptr;
  errno = 0;
  unsigned long long off = std::strtoull(cursor.substr(2, dot - 2).c_str(), &end, 16);
  if (errno != 0 || *end != '\0') return false;
  unsigned long check = std::strtoul(cursor.substr(dot + 1).c_str(), &end, 16);
  if (*end != '\0' || check != check_of(off)) return false;
  *offset = static_cast<size_t>(off);
  return true;
}

common::Status parse_page(const http::Request& rq, size_t default_limit, size_t max_limit,
                          Page* out) {
  out->limit = default_limit;
  out->offset = 0;
  bool found = false;
  std::string limit = rq.query_param("limit", &found);
  if (found && !limit.empty()) {
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(limit.c_str(), &end, 10);
    if (*end != '\0' || errno != 0 || v < 1 || static_cast<unsigned long long>(v) > max_limit) {
      return common::Status::invalid_argument("limit must be an integer from 1 to " +
                                              std::to_string(max_limit) + ", got \"" +
                                              limit.substr(0, 32) + "\"");
    }
    out->limit = static_cast<size_t>(v);
  }
  std::string cursor = rq.query_param("cursor", &found);
  if (found && !cursor.empty() && !decode_cursor(cursor, &out->offset)) {
    return common::Status::invalid_argument(
        "cursor is not one this server returned (pass next_cursor from the previous page)");
  }
  return common::Status::ok_status();
}

}  // namespace pyrometer::server::query
