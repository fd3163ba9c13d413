// GET /api/v1/errors: exceptions recorded as span "exception" events, grouped
// by a fingerprint of the exception type and the in-app frames' file:function
// (never the message, which carries ids and values).
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "server/query/entry_index.h"
#include "server/query/error_fingerprint.h"
#include "server/query/query_common.h"
#include "server/query/query_routes.h"

namespace pyrometer::server::query {

namespace {

struct Group {
  std::string fingerprint, type, service, message, stacktrace, frames_json, example_trace;
  uint64_t count = 0, first_seen = UINT64_MAX, last_seen = 0;
  std::set<std::string> endpoints;
  struct Pending {
    std::string trace_id, service;
  };
  std::vector<Pending> pending;  // endpoint resolved after the scan
};

// Entry spans (in `f`) of the traces the groups' pending rows name.
common::Status observe_entries(store::Store* store, const store::SpanFilter& f,
                               const std::map<std::string, Group>& groups, EntryIndex* entries) {
  store::TraceIdSet ids;
  for (const auto& [k, g] : groups) {
    for (const auto& p : g.pending) ids.insert(p.trace_id);
  }
  if (ids.empty()) return common::Status::ok_status();
  store::SpanFilter entry = f;
  entry.any_of = store::kSpanClassEntry;
  entry.skip_fields = store::kSpanFieldResource | store::kSpanFieldExtras | store::kSpanFieldScope;
  entry.trace_ids = &ids;
  return store->scan_spans(entry, [&](const store::SpanRow& s) {
    if (ids.find(s.trace_id) != ids.end()) entries->observe(s);
    return true;
  });
}

void handle_errors(store::Store* store, const http::Request& rq, http::Response* res) {
  ListParams lp;
  if (!parse_list_params(rq, 100, 1000, &lp, res)) return;
  std::string endpoint_filter = rq.query_param("endpoint");
  EntryIndex entries;
  std::map<std::string, Group> groups;
  store::SpanFilter f;
  f.start_unix_nano = lp.range.start_unix_nano;
  f.end_unix_nano = lp.range.end_unix_nano;
  f.service = lp.service;
  // Exceptions are span events: read only spans with events, then the entry
  // spans of just the traces they belong to (for their endpoints).
  store::SpanFilter with_events = f;
  with_events.any_of = store::kSpanClassEvents;
  with_events.skip_fields = store::kSpanFieldResource | store::kSpanFieldScope;
  common::Status st = store->scan_spans(with_events, [&](const store::SpanRow& s) {
    for (const auto& e : s.events) {
      if (e.name != "exception") continue;
      ExceptionInfo info = exception_info(e.attributes);
      std::string key = s.service + '\x1f' + info.fingerprint;
      Group& g = groups[key];
      g.fingerprint = info.fingerprint;
      g.type = info.type;
      g.service = s.service;
      g.count++;
      g.first_seen = std::min(g.first_seen, e.time_unix_nano);
      if (e.time_unix_nano >= g.last_seen) {
        g.last_seen = e.time_unix_nano;
        g.message = info.message;
        g.stacktrace = info.stacktrace;
        g.frames_json = info.frames_json;
        g.example_trace = s.trace_id;
      }
      if (g.pending.size() < 4096) g.pending.push_back({s.trace_id, s.service});
    }
    return true;
  });
  if (!st.ok()) return json_error(500, "scanning spans: " + st.to_string(), res);
  st = observe_entries(store, f, groups, &entries);
  if (!st.ok()) return json_error(500, "scanning spans: " + st.to_string(), res);
  std::vector<Group*> rows;
  for (auto& [k, g] : groups) {
    for (const auto& p : g.pending) {
      std::string_view ep = entries.lookup(p.trace_id, p.service);
      if (!ep.empty()) g.endpoints.emplace(ep);
    }
    if (!endpoint_filter.empty() && !g.endpoints.count(endpoint_filter)) continue;
    rows.push_back(&g);
  }
  std::sort(rows.begin(), rows.end(), [](const Group* a, const Group* b) {
    if (a->count != b->count) return a->count > b->count;
    return a->fingerprint < b->fingerprint;
  });
  JsonWriter w;
  begin_list(lp.range, &w);
  size_t end = page_end(lp.page, rows.size());
  for (size_t i = page_begin(lp.page, rows.size()); i < end; ++i) {
    const Group& g = *rows[i];
    w.begin_object();
    w.key("fingerprint");
    w.string(g.fingerprint);
    w.key("type");
    w.string(g.type);
    w.key("service");
    w.string(g.service);
    w.key("count");
    w.uint64(g.count);
    w.key("first_seen");
    w.string(format_rfc3339(g.first_seen));
    w.key("last_seen");
    w.string(format_rfc3339(g.last_seen));
    w.key("endpoints");
    w.begin_array();
    for (const auto& e : g.endpoints) w.string(e);
    w.end_array();
    w.key("last_message");
    w.string(g.message);
    w.key("last_stacktrace");
    w.string(g.stacktrace);
    w.key("last_frames");
    if (g.frames_json.empty()) {
      w.begin_array();
      w.end_array();
    } else {
      w.raw(g.frames_json);
    }
    w.key("example_trace_id");
    w.hex(g.example_trace);
    w.end_object();
  }
  end_list(lp.page, rows.size(), &w);
  res->set(200, "application/json", w.take());
}

}  // namespace

void add_errors_route(http::Router* router, store::Store* store) {
  router->add("GET", "/api/v1/errors", [store](const http::Request& rq, http::Response* res) {
    handle_errors(store, rq, res);
  });
}

}  // namespace pyrometer::server::query
