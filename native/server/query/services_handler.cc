// GET /api/v1/services and GET /api/v1/services/{service}/endpoints: golden
// signals per service / endpoint from the rollups (exact whatever sampling).
#include <algorithm>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "server/query/quantile.h"
#include "server/query/query_common.h"
#include "server/query/query_routes.h"
#include "server/query/red_stats.h"

namespace pyrometer::server::query {

namespace {

struct Row {
  std::string service;
  std::string endpoint;
  double rps = 0;
  uint64_t requests = 0;
  uint64_t errors = 0;
  double error_rate = 0;
  std::optional<double> p50, p95, p99, apdex;
  double apdex_t = kDefaultApdexSeconds;
  double impact = 0;
};

// Apdex threshold: apdex_t.<service>=<ms>, else apdex_t=<ms>, else 500 ms.
bool apdex_threshold(const http::Request& rq, const std::string& service, double* out,
                     http::Response* res) {
  for (const std::string& name : {"apdex_t." + service, std::string("apdex_t")}) {
    bool found = false;
    std::string v = rq.query_param(name, &found);
    if (!found || v.empty()) continue;
    char* end = nullptr;
    double ms = std::strtod(v.c_str(), &end);
    if (*end != '\0' || !(ms > 0) || ms > 1e9) {
      json_error(
          400, name + " must be a positive number of milliseconds, got \"" + v.substr(0, 32) + "\"",
          res);
      return false;
    }
    *out = ms / 1000;
    return true;
  }
  *out = kDefaultApdexSeconds;
  return true;
}

Row make_row(const std::string& service, const std::string& endpoint, const RedStats& s,
             double seconds, double apdex_t) {
  Row r;
  r.service = service;
  r.endpoint = endpoint;
  r.requests = s.count;
  r.errors = s.errors;
  r.rps = seconds > 0 ? static_cast<double>(s.count) / seconds : 0;
  r.error_rate = s.count ? static_cast<double>(s.errors) / static_cast<double>(s.count) : 0;
  r.p50 = histogram_quantile(s.all, 0.50);
  r.p95 = histogram_quantile(s.all, 0.95);
  r.p99 = histogram_quantile(s.all, 0.99);
  r.apdex_t = apdex_t;
  r.apdex = apdex(s.ok, s.count, apdex_t);
  r.impact = r.rps * r.p95.value_or(0);
  return r;
}

void write_red(const Row& r, JsonWriter* w) {
  w->key("rps");
  w->number(r.rps);
  w->key("requests");
  w->uint64(r.requests);
  w->key("errors");
  w->uint64(r.errors);
  w->key("error_rate");
  w->number(r.error_rate);
  w->key("p50_ms");
  write_opt(w, r.p50.has_value(), r.p50.value_or(0) * 1000);
  w->key("p95_ms");
  write_opt(w, r.p95.has_value(), r.p95.value_or(0) * 1000);
  w->key("p99_ms");
  write_opt(w, r.p99.has_value(), r.p99.value_or(0) * 1000);
  w->key("apdex");
  write_opt(w, r.apdex.has_value(), r.apdex.value_or(0));
  w->key("apdex_threshold_ms");
  w->number(r.apdex_t * 1000);
}

void handle_services(store::Store* store, const http::Request& rq, http::Response* res) {
  ListParams lp;
  if (!parse_list_params(rq, 100, 1000, &lp, res)) return;
  TimeRange range = minute_aligned(lp.range);
  std::map<std::string, RedStats> stats;
  common::Status st = aggregate_rollups(store, range, lp.service, "", false, &stats);
  std::map<std::string, RuntimeSample> runtime;
  if (st.ok()) st = latest_runtime(store, lp.range, lp.service, &runtime);
  if (!st.ok()) return json_error(500, "reading rollups: " + st.to_string(), res);
  // Services known only from runtime metrics (no requests yet) are listed too.
  std::map<std::string, std::vector<const RuntimeSample*>> instances;
  for (const auto& [k, s] : runtime) instances[s.service].push_back(&s);
  std::set<std::string> names;
  for (const auto& [k, s] : stats) names.insert(k);
  for (const auto& [k, v] : instances) names.insert(k);
  std::vector<Row> rows;
  for (const std::string& name : names) {
    double t;
    if (!apdex_threshold(rq, name, &t, res)) return;
    auto it = stats.find(name);
    rows.push_back(
        make_row(name, "", it == stats.end() ? RedStats{} : it->second, range.seconds(), t));
  }
  JsonWriter w;
  begin_list(range, &w);
  size_t end = page_end(lp.page, rows.size());
  for (size_t i = page_begin(lp.page, rows.size()); i < end; ++i) {
    const Row& r = rows[i];
    w.begin_object();
    w.key("service");
    w.string(r.service);
    write_red(r, &w);
    const auto& inst = instances[r.service];
    bool has_cpu = false, has_rss = false;
    double cpu = 0, rss = 0;
    for (const RuntimeSample* s : inst) {
      if (s->cpu_cores) has_cpu = true, cpu += *s->cpu_cores;
      if (s->rss_bytes) has_rss = true, rss += *s->rss_bytes;
    }
    w.key("instances");
    w.uint64(inst.size());
    w.key("cpu_cores");
    write_opt(&w, has_cpu, cpu);
    w.key("rss_bytes");
    write_opt(&w, has_rss, rss);
    w.end_object();
  }
  end_list(lp.page, rows.size(), &w);
  res->set(200, "application/json", w.take());
}

// Sort keys for endpoints; all descending except the endpoint name.
bool sort_rows(const std::string& by, std::vector<Row>* rows) {
  auto desc = [rows](auto key) {
    std::stable_sort(rows->begin(), rows->end(),
                     [&](const Row& a, const Row& b) { return key(a) > key(b); });
  };
  if (by == "impact")
    desc([](const Row& r) { return r.impact; });
  else if (by == "rps")
    desc([](const Row& r) { return r.rps; });
  else if (by == "requests")
    desc([](const Row& r) { return static_cast<double>(r.requests); });
  else if (by == "errors")
    desc([](const Row& r) { return static_cast<double>(r.errors); });
  else if (by == "error_rate")
    desc([](const Row& r) { return r.error_rate; });
  else if (by == "p50")
    desc([](const Row& r) { return r.p50.value_or(-1); });
  else if (by == "p95")
    desc([](const Row& r) { return r.p95.value_or(-1); });
  else if (by == "p99")
    desc([](const Row& r) { return r.p99.value_or(-1); });
  else if (by == "apdex") {
    // Worst first.
    std::stable_sort(rows->begin(), rows->end(), [](const Row& a, const Row& b) {
      return a.apdex.value_or(2) < b.apdex.value_or(2);
    });
  } else if (by != "endpoint") {
    return false;
  }
  return true;
}

void handle_endpoints(store::Store* store, const http::Request& rq, http::Response* res) {
  std::string service = http::url_decode(rq.path_param);
  ListParams lp;
  if (!parse_list_params(rq, 100, 1000, &lp, res)) return;
  std::string sort = rq.query_param("sort");
  if (sort.empty()) sort = "impact";
  double t;
  if (!apdex_threshold(rq, service, &t, res)) return;
  TimeRange range = minute_aligned(lp.range);
  std::map<std::string, RedStats> stats;
  common::Status st = aggregate_rollups(store, range, service, "", true, &stats);
  if (!st.ok()) return json_error(500, "reading rollups: " + st.to_string(), res);
  std::vector<Row> rows;
  for (const auto& [key, s] : stats) {
    size_t sep = key.find('\x1f');
    rows.push_back(make_row(service, key.substr(sep + 1), s, range.seconds(), t));
  }
  if (!sort_rows(sort, &rows)) {
    return json_error(400,
                      "sort must be one of impact, rps, requests, errors, error_rate, p50, p95, "
                      "p99, apdex, endpoint; got \"" +
                          sort.substr(0, 32) + "\"",
                      res);
  }
  JsonWriter w;
  begin_list(range, &w);
  size_t end = page_end(lp.page, rows.size());
  for (size_t i = page_begin(lp.page, rows.size()); i < end; ++i) {
    const Row& r = rows[i];
    w.begin_object();
    w.key("service");
    w.string(r.service);
    w.key("endpoint");
    w.string(r.endpoint);
    write_red(r, &w);
    w.key("impact");
    w.number(r.impact);
    w.end_object();
  }
  end_list(lp.page, rows.size(), &w);
  res->set(200, "application/json", w.take());
}

}  // namespace

void add_services_routes(http::Router* router, store::Store* store) {
  router->add("GET", "/api/v1/services", [store](const http::Request& rq, http::Response* res) {
    handle_services(store, rq, res);
  });
  router->add(
      "GET", "/api/v1/services/{service}/endpoints",
      [store](const http::Request& rq, http::Response* res) { handle_endpoints(store, rq, res); });
}

}  // namespace pyrometer::server::query
