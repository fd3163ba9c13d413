// GET /api/v1/traces/{trace_id}: a whole trace by id, straight from the
// store's trace-id index, as JSON for the waterfall view and tests, with the
// profile samples labelled with each span (store's per-trace profile index).
#include <algorithm>
#include <string>

#include "server/query/json_writer.h"
#include "server/query/query_routes.h"
#include "server/query/span_profile.h"
#include "server/store/rollup.h"

namespace pyrometer::server::query {

namespace {

constexpr const char* kKinds[] = {"unspecified", "internal", "server",
                                  "client",      "producer", "consumer"};
constexpr const char* kStatus[] = {"unset", "ok", "error"};

void json_error(int status, const std::string& message, http::Response* res) {
  JsonWriter w;
  w.begin_object();
  w.key("error");
  w.string(message);
  w.end_object();
  res->set(status, "application/json", w.take());
}

// Profiles of the span, preferred type first (cpu, wall, alloc, heap); null
// when the span has no labelled samples.
void write_span(const store::SpanRow& s, const std::vector<SpanProfile>* profiles, JsonWriter* w) {
  w->begin_object();
  w->key("trace_id");
  w->hex(s.trace_id);
  w->key("span_id");
  w->hex(s.span_id);
  w->key("parent_span_id");
  w->hex(s.parent_span_id);
  if (!s.trace_state.empty()) {
    w->key("trace_state");
    w->string(s.trace_state);
  }
  w->key("service");
  w->string(s.service);
  w->key("name");
  w->string(s.name);
  w->key("kind");
  w->string(s.kind < 6 ? kKinds[s.kind] : "unspecified");
  w->key("start_unix_nano");
  w->uint64(s.start_time_unix_nano);
  w->key("end_unix_nano");
  w->uint64(s.end_time_unix_nano);
  w->key("duration_ns");
  w->uint64(s.end_time_unix_nano >= s.start_time_unix_nano
                ? s.end_time_unix_nano - s.start_time_unix_nano
                : 0);
  w->key("status");
  w->begin_object();
  w->key("code");
  w->string(s.status_code < 3 ? kStatus[s.status_code] : "unset");
  w->key("message");
  w->string(s.status_message);
  w->end_object();
  w->key("attributes");
  write_attributes(s.attributes, w);
  w->key("resource");
  write_attributes(s.resource_attributes, w);
  w->key("scope");
  w->begin_object();
  w->key("name");
  w->string(s.scope_name);
  w->key("version");
  w->string(s.scope_version);
  w->end_object();
  w->key("events");
  w->begin_array();
  for (const auto& e : s.events) {
    w->begin_object();
    w->key("time_unix_nano");
    w->uint64(e.time_unix_nano);
    w->key("name");
    w->string(e.name);
    w->key("attributes");
    write_attributes(e.attributes, w);
    w->end_object();
  }
  w->end_array();
  w->key("links");
  w->begin_array();
  for (const auto& l : s.links) {
    w->begin_object();
    w->key("trace_id");
    w->hex(l.trace_id);
    w->key("span_id");
    w->hex(l.span_id);
    w->key("trace_state");
    w->string(l.trace_state);
    w->key("attributes");
    write_attributes(l.attributes, w);
    w->end_object();
  }
  w->end_array();
  if (profiles != nullptr && !profiles->empty()) {
    w->key("profile");
    write_span_profile(profiles->front(), w);
    if (profiles->size() > 1) {
      w->key("other_profiles");
      w->begin_array();
      for (size_t i = 1; i < profiles->size(); ++i) write_span_profile((*profiles)[i], w);
      w->end_array();
    }
  }
  w->end_object();
}

// Profiles are uploaded after the work they sample (agents flush every few
// seconds to a minute), and stored under the upload's minute: read from just
// before the trace to a while after it.
constexpr uint64_t kProfileLeadNanos = 2 * store::kMinuteNanos;
constexpr uint64_t kProfileLagNanos = 15 * store::kMinuteNanos;

void handle_trace(store::Store* store, const http::Request& rq, http::Response* res) {
  std::string id_hex = http::url_decode(rq.path_param);
  std::string raw;
  if (!from_hex(id_hex, 16, &raw)) {
    return json_error(400, "trace id must be 32 hex digits, got \"" + id_hex.substr(0, 64) + "\"",
                      res);
  }
  std::vector<store::SpanRow> spans;
  common::Status st = store->find_trace(raw, &spans);
  if (!st.ok()) return json_error(500, "reading trace: " + st.to_string(), res);
  if (spans.empty()) return json_error(404, "trace " + to_hex(raw) + " not found", res);
  std::stable_sort(spans.begin(), spans.end(), [](const auto& a, const auto& b) {
    return a.start_time_unix_nano < b.start_time_unix_nano;
  });
  store::ProfileFilter pf;
  pf.trace_id = raw;
  pf.start_unix_nano = UINT64_MAX;
  uint64_t last_end = 0;
  for (const auto& s : spans) {
    pf.start_unix_nano = std::min(pf.start_unix_nano, s.start_time_unix_nano);
    last_end = std::max({last_end, s.end_time_unix_nano, s.start_time_unix_nano});
  }
  pf.start_unix_nano =
      pf.start_unix_nano > kProfileLeadNanos ? pf.start_unix_nano - kProfileLeadNanos : 0;
  pf.end_unix_nano =
      last_end < UINT64_MAX - kProfileLagNanos ? last_end + kProfileLagNanos : UINT64_MAX;
  std::vector<store::ProfileRow> profile_rows;
  st = store->read_profiles(pf, &profile_rows);
  if (!st.ok()) return json_error(500, "reading trace profiles: " + st.to_string(), res);
  auto profiles = span_profiles(profile_rows);
  JsonWriter w;
  w.begin_object();
  w.key("trace_id");
  w.hex(raw);
  w.key("spans");
  w.begin_array();
  for (const auto& s : spans) {
    auto p = profiles.find(s.span_id);
    write_span(s, p == profiles.end() ? nullptr : &p->second, &w);
  }
  w.end_array();
  w.end_object();
  res->set(200, "application/json", w.take());
}

}  // namespace

void add_trace_route(http::Router* router, store::Store* store) {
  router->add(
      "GET", "/api/v1/traces/{trace_id}",
      [store](const http::Request& rq, http::Response* res) { handle_trace(store, rq, res); });
}

}  // namespace pyrometer::server::query
