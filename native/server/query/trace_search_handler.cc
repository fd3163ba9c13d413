// GET /api/v1/traces: trace search over raw spans (service, endpoint,
// duration, status, attribute equality, insight kind) → trace summaries.
#include <algorithm>
#include <cstdlib>
#include <string>
#include <unordered_map>
#include <vector>

#include "server/query/query_common.h"
#include "server/query/query_routes.h"

namespace pyrometer::server::query {

namespace {

struct AttrFilter {
  std::string key, value;
};

struct TraceAgg {
  std::string trace_id;
  std::string root_name, root_service, keep_reason;
  uint64_t root_start = 0, root_end = 0;  // the span with no parent, else the earliest
  bool has_root = false;
  uint64_t first_start = UINT64_MAX, last_end = 0;
  uint32_t span_count = 0;
  bool error = false;
  bool service_match = false;
  std::vector<std::string> services;
  std::vector<bool> attr_match;
  std::vector<std::string> insights;
};

struct Query {
  std::string service, endpoint, status, insight;
  uint64_t min_ns = 0, max_ns = UINT64_MAX;
  std::vector<AttrFilter> attrs;
};

bool parse_ms(const http::Request& rq, const char* name, uint64_t* out, http::Response* res) {
  std::string v = rq.query_param(name);
  if (v.empty()) return true;
  char* end = nullptr;
  double ms = std::strtod(v.c_str(), &end);
  if (*end != '\0' || !(ms >= 0) || ms > 1e12) {
    json_error(400, std::string(name) + " must be a non-negative number of milliseconds", res);
    return false;
  }
  *out = static_cast<uint64_t>(ms * 1e6);
  return true;
}

// attr.<key>=<value> pairs, straight from the raw query string.
std::vector<AttrFilter> attr_filters(const http::Request& rq) {
  std::vector<AttrFilter> out;
  std::string_view rest = rq.query;
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    size_t eq = pair.find('=');
    std::string key = http::url_decode(pair.substr(0, eq));
    if (key.rfind("attr.", 0) != 0 || key.size() == 5) continue;
    out.push_back({key.substr(5), eq == std::string_view::npos
                                      ? std::string()
                                      : http::url_decode(pair.substr(eq + 1))});
  }
  return out;
}

void observe(const Query& q, const store::SpanRow& s, TraceAgg* t) {
  t->span_count++;
  t->first_start = std::min(t->first_start, s.start_time_unix_nano);
  t->last_end = std::max(t->last_end, s.end_time_unix_nano);
  if (std::find(t->services.begin(), t->services.end(), s.service) == t->services.end()) {
    t->services.push_back(s.service);
  }
  if (s.status_code == 2) t->error = true;
  bool is_root = s.parent_span_id.empty();
  if (is_root || (!t->has_root && (t->root_start == 0 || s.start_time_unix_nano < t->root_start))) {
    t->has_root = t->has_root || is_root;
    t->root_name = s.name;
    t->root_service = s.service;
    t->root_start = s.start_time_unix_nano;
    t->root_end = s.end_time_unix_nano;
  }
  std::string_view keep = attr_str(s.attributes, "pyrometer.keep_reason");
  if (!keep.empty()) t->keep_reason.assign(keep);
  if ((q.service.empty() || s.service == q.service) &&
      (q.endpoint.empty() || endpoint_of(s) == q.endpoint)) {
    t->service_match = true;
  }
  for (size_t i = 0; i < q.attrs.size(); ++i) {
    if (t->attr_match[i]) continue;
    const store::AttrValue* v = find_attr(s.attributes, q.attrs[i].key);
    if (v == nullptr) v = find_attr(s.resource_attributes, q.attrs[i].key);
    if (v != nullptr && attr_text(*v) == q.attrs[i].value) t->attr_match[i] = true;
  }
  auto add_insight = [t](std::string_view kind) {
    if (kind.empty()) return;
    if (std::find(t->insights.begin(), t->insights.end(), kind) == t->insights.end())
      t->insights.emplace_back(kind);
  };
  add_insight(attr_str(s.attributes, "pyrometer.insight"));
  for (const auto& e : s.events) {
    if (e.name != "pyrometer.insight") continue;
    std::string_view kind = attr_str(e.attributes, "pyrometer.insight.kind");
    add_insight(kind.empty() ? attr_str(e.attributes, "kind") : kind);
  }
}

bool matches(const Query& q, const TraceAgg& t) {
  if (!t.service_match) return false;
  for (bool m : t.attr_match) {
    if (!m) return false;
  }
  uint64_t d = t.root_end > t.root_start ? t.root_end - t.root_start : 0;
  if (d < q.min_ns || d > q.max_ns) return false;
  if (q.status == "error" && !t.error) return false;
  if (q.status == "ok" && t.error) return false;
  if (!q.insight.empty() &&
      std::find(t.insights.begin(), t.insights.end(), q.insight) == t.insights.end()) {
    return false;
  }
  return true;
}

void handle_search(store::Store* store, const http::Request& rq, http::Response* res) {
  ListParams lp;
  if (!parse_list_params(rq, 50, 1000, &lp, res)) return;
  Query q;
  q.service = lp.service;
  q.endpoint = rq.query_param("endpoint");
  q.status = rq.query_param("status");
  q.insight = rq.query_param("insight");
  if (!q.status.empty() && q.status != "error" && q.status != "ok") {
    return json_error(400, "status must be error or ok", res);
  }
  if (!parse_ms(rq, "min_duration_ms", &q.min_ns, res) ||
      !parse_ms(rq, "max_duration_ms", &q.max_ns, res)) {
    return;
  }
  q.attrs = attr_filters(rq);
  std::unordered_map<std::string, TraceAgg> traces;
  store::SpanFilter f;
  f.start_unix_nano = lp.range.start_unix_nano;
  f.end_unix_nano = lp.range.end_unix_nano;
  // A trace can only match with an error span (status=error) or a span of the
  // asked service in the range: find those traces first through the store's
  // page summaries, then aggregate only their spans. `total` stays exact, so
  // the scan cannot stop at `limit`.
  store::TraceIdSet candidates;
  const bool narrowed = q.status == "error" || !q.service.empty();
  common::Status st;
  if (narrowed) {
    store::SpanFilter pre = f;
    if (q.status == "error") {
      pre.any_of = store::kSpanClassError;
    } else {
      pre.service = q.service;
    }
    pre.ids_only = true;
    st = store->scan_spans(pre, [&](const store::SpanRow& s) {
      candidates.insert(s.trace_id);
      return true;
    });
    if (!st.ok()) return json_error(500, "scanning spans: " + st.to_string(), res);
    f.trace_ids = &candidates;
  }
  // Summaries never show scopes; resource attributes only answer attr.* filters.
  f.skip_fields = store::kSpanFieldScope | (q.attrs.empty() ? store::kSpanFieldResource : 0u);
  if (!narrowed || !candidates.empty()) {
    st = store->scan_spans(f, [&](const store::SpanRow& s) {
      if (narrowed && candidates.find(s.trace_id) == candidates.end()) return true;
      TraceAgg& t = traces[s.trace_id];
      if (t.trace_id.empty()) {
        t.trace_id = s.trace_id;
        t.attr_match.assign(q.attrs.size(), false);
      }
      observe(q, s, &t);
      return true;
    });
  }
  if (!st.ok()) return json_error(500, "scanning spans: " + st.to_string(), res);
  std::vector<const TraceAgg*> hits;
  for (const auto& [id, t] : traces) {
    if (matches(q, t)) hits.push_back(&t);
  }
  std::sort(hits.begin(), hits.end(), [](const TraceAgg* a, const TraceAgg* b) {
    if (a->root_start != b->root_start) return a->root_start > b->root_start;  // newest first
    return a->trace_id < b->trace_id;
  });
  JsonWriter w;
  begin_list(lp.range, &w);
  size_t end = page_end(lp.page, hits.size());
  for (size_t i = page_begin(lp.page, hits.size()); i < end; ++i) {
    const TraceAgg& t = *hits[i];
    w.begin_object();
    w.key("trace_id");
    w.hex(t.trace_id);
    w.key("root_name");
    w.string(t.root_name);
    w.key("root_service");
    w.string(t.root_service);
    w.key("complete");
    w.boolean(t.has_root);
    w.key("start_unix_nano");
    w.uint64(t.root_start);
    w.key("duration_ms");
    w.number(static_cast<double>(t.root_end > t.root_start ? t.root_end - t.root_start : 0) / 1e6);
    w.key("span_count");
    w.uint64(t.span_count);
    w.key("services");
    w.begin_array();
    for (const auto& s : t.services) w.string(s);
    w.end_array();
    w.key("error");
    w.boolean(t.error);
    w.key("keep_reason");
    if (t.keep_reason.empty()) {
      w.null();
    } else {
      w.string(t.keep_reason);
    }
    w.key("insights");
    w.begin_array();
    for (const auto& s : t.insights) w.string(s);
    w.end_array();
    w.end_object();
  }
  end_list(lp.page, hits.size(), &w);
  res->set(200, "application/json", w.take());
}

}  // namespace

void add_trace_search_route(http::Router* router, store::Store* store) {
  router->add("GET", "/api/v1/traces", [store](const http::Request& rq, http::Response* res) {
    handle_search(store, rq, res);
  });
}

}  // namespace pyrometer::server::query
