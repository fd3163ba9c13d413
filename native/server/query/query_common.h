// Helpers every /api/v1 list endpoint shares: error bodies, the common
// since/until/service/limit/cursor parameters, attribute lookups, and the
// {"since", "until", "items", "next_cursor"} envelope.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/http/handler.h"
#include "server/query/json_writer.h"
#include "server/query/paging.h"
#include "server/query/time_range.h"
#include "server/store/store.h"

namespace pyrometer::server::query {

// {"error": message} with `status`.
void json_error(int status, const std::string& message, http::Response* res);

struct ListParams {
  TimeRange range;
  std::string service;
  Page page;
};

// Parses since/until/service/limit/cursor. On bad input writes a 400 to `res`
// and returns false.
bool parse_list_params(const http::Request& rq, size_t default_limit, size_t max_limit,
                       ListParams* out, http::Response* res);

// Writes `{"since": RFC3339, "until": RFC3339, "items": [` — the caller writes
// the items and then calls end_list().
void begin_list(const TimeRange& range, JsonWriter* w);
// Closes the items array and writes "total" and "next_cursor" (null on the
// last page) from how many items the full result had.
void end_list(const Page& page, size_t total, JsonWriter* w);

// The [begin, end) item indices of `page` in a result of `total` items.
inline size_t page_begin(const Page& p, size_t total) {
  return p.offset < total ? p.offset : total;
}
inline size_t page_end(const Page& p, size_t total) {
  size_t b = page_begin(p, total);
  return total - b < p.limit ? total : b + p.limit;
}

// Attribute lookups on store rows. `attr_string` renders ints/doubles/bools
// as text (so attr.http.response.status_code=500 matches an int attribute).
const store::AttrValue* find_attr(const std::vector<store::Attribute>& attrs, std::string_view key);
std::string_view attr_str(const std::vector<store::Attribute>& attrs, std::string_view key);
std::string attr_text(const store::AttrValue& v);
bool attr_int(const std::vector<store::Attribute>& attrs, std::string_view key, int64_t* out);

// Instance identity of a resource: service.instance.id, else host.name:process.pid.
std::string instance_of(const std::vector<store::Attribute>& resource);

// Endpoint name of an entry span: http.route, else "<method> <route>"-less span name.
std::string_view endpoint_of(const store::SpanRow& s);

// Entry spans start a service's part of a trace: no parent, or kind SERVER/CONSUMER.
inline bool is_entry(const store::SpanRow& s) {
  return s.parent_span_id.empty() || s.kind == 2 || s.kind == 5;
}

inline double span_seconds(const store::SpanRow& s) {
  return s.end_time_unix_nano > s.start_time_unix_nano
             ? static_cast<double>(s.end_time_unix_nano - s.start_time_unix_nano) / 1e9
             : 0.0;
}

// Writes a double or null.
void write_opt(JsonWriter* w, bool has, double v);

}  // namespace pyrometer::server::query
