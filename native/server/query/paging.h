// Paging of list endpoints: `limit` (bounded) and an opaque `cursor` that
// resumes a listing where the previous page stopped.
#pragma once

#include <cstddef>
#include <string>

#include "common/status.h"
#include "server/http/handler.h"

namespace pyrometer::server::query {

struct Page {
  size_t limit = 0;
  size_t offset = 0;  // items to skip, from the cursor
};

// Reads `limit` (1..max_limit, default default_limit) and `cursor` (as
// returned in a previous response's next_cursor). InvalidArgument on a
// malformed value. A cursor is only meaningful with the same other parameters.
common::Status parse_page(const http::Request& request, size_t default_limit, size_t max_limit,
                          Page* out);

// The cursor for the page starting at `offset`. Opaque to clients: its
// format may change between versions.
std::string encode_cursor(size_t offset);
bool decode_cursor(const std::string& cursor, size_t* offset);

}  // namespace pyrometer::server::query
