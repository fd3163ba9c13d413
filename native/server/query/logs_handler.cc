// GET /api/v1/logs: log records (insights included) filtered by trace id,
// service, event name, time and severity, newest first.
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <string>

#include "server/query/json_writer.h"
#include "server/query/query_routes.h"

namespace pyrometer::server::query {

namespace {

constexpr size_t kDefaultLimit = 1000;
constexpr size_t kMaxLimit = 10000;

void json_error(int status, const std::string& message, http::Response* res) {
  JsonWriter w;
  w.begin_object();
  w.key("error");
  w.string(message);
  w.end_object();
  res->set(status, "application/json", w.take());
}

// Parses an optional unsigned query parameter; false (and an error
// response) when present but not a non-negative integer.
bool uint_param(const http::Request& rq, const char* name, uint64_t* out, http::Response* res) {
  bool found = false;
  std::string v = rq.query_param(name, &found);
  if (!found || v.empty()) return true;
  char* end = nullptr;
  errno = 0;
  unsigned long long x = std::strtoull(v.c_str(), &end, 10);
  if (*end != '\0' || errno != 0 || v[0] == '-') {
    json_error(400, std::string("query parameter ") + name + " must be a non-negative integer",
               res);
    return false;
  }
  *out = x;
  return true;
}

void write_log(const store::LogRow& r, JsonWriter* w) {
  w->begin_object();
  w->key("time_unix_nano");
  w->uint64(r.time_unix_nano);
  w->key("observed_time_unix_nano");
  w->uint64(r.observed_time_unix_nano);
  w->key("severity_number");
  w->int64(r.severity_number);
  w->key("severity_text");
  w->string(r.severity_text);
  w->key("body");
  write_attr_value(r.body, w);
  w->key("attributes");
  write_attributes(r.attributes, w);
  w->key("trace_id");
  w->hex(r.trace_id);
  w->key("span_id");
  w->hex(r.span_id);
  w->key("event_name");
  w->string(r.event_name);
  w->key("service");
  w->string(r.service);
  w->key("resource");
  write_attributes(r.resource_attributes, w);
  w->key("scope_name");
  w->string(r.scope_name);
  w->end_object();
}

void handle_logs(store::Store* store, const http::Request& rq, http::Response* res) {
  store::LogFilter filter;
  std::string trace_hex = rq.query_param("trace_id");
  if (!trace_hex.empty() && !from_hex(trace_hex, 16, &filter.trace_id)) {
    return json_error(400, "trace_id must be 32 hex digits", res);
  }
  filter.service = rq.query_param("service");
  filter.event_name = rq.query_param("event_name");
  uint64_t start = 0, end = UINT64_MAX, min_sev = 0, limit = kDefaultLimit;
  if (!uint_param(rq, "start", &start, res) || !uint_param(rq, "end", &end, res) ||
      !uint_param(rq, "min_severity", &min_sev, res) || !uint_param(rq, "limit", &limit, res)) {
    return;
  }
  filter.start_unix_nano = start;
  filter.end_unix_nano = end;
  filter.min_severity = static_cast<int32_t>(std::min<uint64_t>(min_sev, 24));
  limit = std::clamp<uint64_t>(limit, 1, kMaxLimit);
  // Scan order is unspecified, so keep the newest `limit` seen: a bounded
  // min-heap on time.
  std::vector<store::LogRow> rows;
  auto newer = [](const store::LogRow& a, const store::LogRow& b) {
    return a.time_unix_nano > b.time_unix_nano;
  };
  common::Status st = store->scan_logs(filter, [&](const store::LogRow& row) {
    if (rows.size() < limit) {
      rows.push_back(row);
      std::push_heap(rows.begin(), rows.end(), newer);
    } else if (row.time_unix_nano > rows.front().time_unix_nano) {
      std::pop_heap(rows.begin(), rows.end(), newer);
      rows.back() = row;
      std::push_heap(rows.begin(), rows.end(), newer);
    }
    return true;
  });
  if (!st.ok()) return json_error(500, "reading logs: " + st.to_string(), res);
  std::sort(rows.begin(), rows.end(), newer);
  JsonWriter w;
  w.begin_object();
  w.key("logs");
  w.begin_array();
  for (const auto& r : rows) write_log(r, &w);
  w.end_array();
  w.end_object();
  res->set(200, "application/json", w.take());
}

}  // namespace

void add_logs_route(http::Router* router, store::Store* store) {
  router->add("GET", "/api/v1/logs", [store](const http::Request& rq, http::Response* res) {
    handle_logs(store, rq, res);
  });
}

}  // namespace pyrometer::server::query
