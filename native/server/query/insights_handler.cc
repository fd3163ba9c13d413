// GET /api/v1/insights: findings (log records with event name
// "pyrometer.insight") grouped by their fingerprint attribute.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "server/query/query_common.h"
#include "server/query/query_routes.h"

namespace pyrometer::server::query {

namespace {

constexpr size_t kMaxExamples = 5;

// pyrometer.insight.<name>, else insight.<name>, else <fallback>.
std::string insight_attr(const store::LogRow& r, const char* name, const char* fallback = "") {
  const store::AttrValue* v = find_attr(r.attributes, std::string("pyrometer.insight.") + name);
  if (v == nullptr) v = find_attr(r.attributes, std::string("insight.") + name);
  if (v == nullptr && *fallback) v = find_attr(r.attributes, fallback);
  return v == nullptr ? std::string() : attr_text(*v);
}

int severity_rank(const std::string& s) {
  if (s == "critical") return 4;
  if (s == "high") return 3;
  if (s == "medium") return 2;
  if (s == "low") return 1;
  return 0;
}

struct Group {
  std::string fingerprint, kind, title, severity, service, file, function, evidence;
  int64_t line = 0;
  uint64_t count = 0, first_seen = UINT64_MAX, last_seen = 0;
  std::vector<std::string> examples;  // raw trace ids, newest kept last
};

void handle_insights(store::Store* store, const http::Request& rq, http::Response* res) {
  ListParams lp;
  if (!parse_list_params(rq, 100, 1000, &lp, res)) return;
  std::string kind_filter = rq.query_param("kind");
  std::string severity_filter = rq.query_param("severity");
  std::map<std::string, Group> groups;
  store::LogFilter f;
  f.start_unix_nano = lp.range.start_unix_nano;
  f.end_unix_nano = lp.range.end_unix_nano;
  f.service = lp.service;
  f.event_name = "pyrometer.insight";
  common::Status st = store->scan_logs(f, [&](const store::LogRow& r) {
    std::string kind = insight_attr(r, "kind");
    if (!kind_filter.empty() && kind != kind_filter) return true;
    std::string severity = insight_attr(r, "severity");
    if (!severity_filter.empty() && severity_rank(severity) < severity_rank(severity_filter))
      return true;
    std::string fp = insight_attr(r, "fingerprint");
    if (fp.empty()) fp = kind + ":" + insight_attr(r, "title");
    Group& g = groups[r.service + '\x1f' + fp];
    g.count++;
    g.first_seen = std::min(g.first_seen, r.time_unix_nano);
    if (r.time_unix_nano >= g.last_seen) {
      g.last_seen = r.time_unix_nano;
      g.fingerprint = fp;
      g.kind = kind;
      g.service = r.service;
      g.title = insight_attr(r, "title");
      if (g.title.empty()) g.title = attr_text(r.body);
      g.severity = severity.empty() ? "medium" : severity;
      g.file = insight_attr(r, "file", "code.filepath");
      if (g.file.empty()) g.file = insight_attr(r, "file", "code.file.path");
      g.function = insight_attr(r, "function", "code.function");
      if (g.function.empty()) g.function = insight_attr(r, "function", "code.function.name");
      std::string line = insight_attr(r, "line", "code.lineno");
      if (line.empty()) line = insight_attr(r, "line", "code.line.number");
      g.line = line.empty() ? 0 : std::atoll(line.c_str());
      g.evidence = insight_attr(r, "evidence");
      if (g.evidence.empty()) g.evidence = attr_text(r.body);
    }
    if (!r.trace_id.empty() &&
        std::find(g.examples.begin(), g.examples.end(), r.trace_id) == g.examples.end()) {
      g.examples.push_back(r.trace_id);
      if (g.examples.size() > kMaxExamples) g.examples.erase(g.examples.begin());
    }
    return true;
  });
  if (!st.ok()) return json_error(500, "scanning logs: " + st.to_string(), res);
  std::vector<const Group*> rows;
  for (const auto& [k, g] : groups) rows.push_back(&g);
  std::sort(rows.begin(), rows.end(), [](const Group* a, const Group* b) {
    int sa = severity_rank(a->severity), sb = severity_rank(b->severity);
    if (sa != sb) return sa > sb;
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
    w.key("kind");
    w.string(g.kind);
    w.key("title");
    w.string(g.title);
    w.key("severity");
    w.string(g.severity);
    w.key("service");
    w.string(g.service);
    w.key("location");
    w.begin_object();
    w.key("file");
    w.string(g.file);
    w.key("line");
    w.int64(g.line);
    w.key("function");
    w.string(g.function);
    w.end_object();
    w.key("count");
    w.uint64(g.count);
    w.key("first_seen");
    w.string(format_rfc3339(g.first_seen));
    w.key("last_seen");
    w.string(format_rfc3339(g.last_seen));
    w.key("example_trace_ids");
    w.begin_array();
    for (auto it = g.examples.rbegin(); it != g.examples.rend(); ++it) w.hex(*it);
    w.end_array();
    w.key("evidence");
    w.string(g.evidence);
    w.end_object();
  }
  end_list(lp.page, rows.size(), &w);
  res->set(200, "application/json", w.take());
}

}  // namespace

void add_insights_route(http::Router* router, store::Store* store) {
  router->add("GET", "/api/v1/insights", [store](const http::Request& rq, http::Response* res) {
    handle_insights(store, rq, res);
  });
}

}  // namespace pyrometer::server::query
