// GET /api/v1/queries: database statements grouped by fingerprint (the
// agent's db.query.fingerprint, else the normalised db.query.text), with
// latency, rows, calling endpoints and the slowest example trace.
#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/sql_normalizer.h"
#include "server/query/entry_index.h"
#include "server/query/quantile.h"
#include "server/query/query_common.h"
#include "server/query/query_routes.h"
#include "server/store/rollup.h"

namespace pyrometer::server::query {

namespace {

struct Group {
  std::string fingerprint, text, system, service, example_trace;
  uint64_t calls = 0;
  double total_s = 0, slowest_s = -1;
  bool has_rows = false;
  int64_t rows = 0;
  store::RollupHistogram hist;
  std::vector<std::pair<std::string, std::string>> pending;  // (trace, service)
  std::set<std::string> callers;
};

std::string_view statement_of(const store::SpanRow& s) {
  std::string_view t = attr_str(s.attributes, "db.query.text");
  return t.empty() ? attr_str(s.attributes, "db.statement") : t;
}

void handle_queries(store::Store* store, const http::Request& rq, http::Response* res) {
  ListParams lp;
  if (!parse_list_params(rq, 100, 1000, &lp, res)) return;
  std::string sort = rq.query_param("sort");
  if (sort.empty()) sort = "total";
  if (sort != "total" && sort != "calls" && sort != "mean" && sort != "p95") {
    return json_error(400, "sort must be one of total, calls, mean, p95", res);
  }
  EntryIndex entries;
  std::map<std::string, Group> groups;
  store::SpanFilter f;
  f.start_unix_nano = lp.range.start_unix_nano;
  f.end_unix_nano = lp.range.end_unix_nano;
  f.service = lp.service;
  common::NormalizedSql norm;
  // Only DB spans and entry spans (for the callers) are needed: one pass over
  // both classes decodes each page once (DB calls are common, so a second
  // pass over their traces' pages would read nearly every page again).
  store::SpanFilter db = f;
  db.any_of = store::kSpanClassDb | store::kSpanClassEntry;
  db.skip_fields = store::kSpanFieldResource | store::kSpanFieldExtras | store::kSpanFieldScope;
  common::Status st = store->scan_spans(db, [&](const store::SpanRow& s) {
    entries.observe(s);
    std::string_view system = attr_str(s.attributes, "db.system");
    if (system.empty()) system = attr_str(s.attributes, "db.system.name");
    if (system.empty()) return true;
    std::string_view text = statement_of(s);
    std::string fp(attr_str(s.attributes, "db.query.fingerprint"));
    if (fp.empty() && !text.empty()) {
      common::normalize_sql(text, &norm);
      char buf[24];
      std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(norm.fingerprint));
      fp = buf;
      text = norm.text;
    }
    if (fp.empty()) fp = "op:" + s.name;  // no statement text (e.g. Redis): by operation
    Group& g = groups[s.service + '\x1f' + fp];
    if (g.calls == 0) {
      g.fingerprint = fp;
      g.text.assign(text.empty() ? std::string_view(s.name) : text);
      g.system.assign(system);
      g.service = s.service;
    }
    double secs = span_seconds(s);
    g.calls++;
    g.total_s += secs;
    store::histogram_record(&g.hist, secs, 1);
    int64_t rows = 0;
    if (attr_int(s.attributes, "db.response.returned_rows", &rows) ||
        attr_int(s.attributes, "db.rows_affected", &rows)) {
      g.has_rows = true;
      g.rows += rows;
    }
    if (secs > g.slowest_s) {
      g.slowest_s = secs;
      g.example_trace = s.trace_id;
    }
    if (g.pending.size() < 4096) g.pending.emplace_back(s.trace_id, s.service);
    return true;
  });
  if (!st.ok()) return json_error(500, "scanning spans: " + st.to_string(), res);
  std::vector<Group*> rows;
  for (auto& [k, g] : groups) {
    for (const auto& [trace, service] : g.pending) {
      std::string_view ep = entries.lookup(trace, service);
      if (!ep.empty()) g.callers.emplace(ep);
    }
    rows.push_back(&g);
  }
  auto metric = [&](const Group* g) {
    if (sort == "calls") return static_cast<double>(g->calls);
    if (sort == "mean") return g->total_s / static_cast<double>(g->calls);
    if (sort == "p95") return histogram_quantile(g->hist, 0.95).value_or(0);
    return g->total_s;
  };
  std::sort(rows.begin(), rows.end(), [&](const Group* a, const Group* b) {
    double ma = metric(a), mb = metric(b);
    if (ma != mb) return ma > mb;
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
    w.key("text");
    w.string(g.text);
    w.key("db_system");
    w.string(g.system);
    w.key("service");
    w.string(g.service);
    w.key("calls");
    w.uint64(g.calls);
    w.key("total_ms");
    w.number(g.total_s * 1000);
    w.key("mean_ms");
    w.number(g.total_s * 1000 / static_cast<double>(g.calls));
    w.key("p95_ms");
    w.number(histogram_quantile(g.hist, 0.95).value_or(0) * 1000);
    w.key("rows");
    if (g.has_rows) {
      w.int64(g.rows);
    } else {
      w.null();
    }
    w.key("callers");
    w.begin_array();
    for (const auto& c : g.callers) w.string(c);
    w.end_array();
    w.key("example_trace_id");
    w.hex(g.example_trace);
    w.end_object();
  }
  end_list(lp.page, rows.size(), &w);
  res->set(200, "application/json", w.take());
}

}  // namespace

void add_queries_route(http::Router* router, store::Store* store) {
  router->add("GET", "/api/v1/queries", [store](const http::Request& rq, http::Response* res) {
    handle_queries(store, rq, res);
  });
}

}  // namespace pyrometer::server::query
