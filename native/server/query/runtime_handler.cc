// GET /api/v1/runtime: per instance, the latest runtime values the agent
// reported (CPU, RSS, threads, GC, GIL, event-loop lag, dropped data).
#include <string>
#include <vector>

#include "server/query/query_common.h"
#include "server/query/query_routes.h"
#include "server/query/red_stats.h"

namespace pyrometer::server::query {

namespace {

void opt(JsonWriter* w, const char* key, const std::optional<double>& v, double scale = 1) {
  w->key(key);
  write_opt(w, v.has_value(), v.value_or(0) * scale);
}

void handle_runtime(store::Store* store, const http::Request& rq, http::Response* res) {
  ListParams lp;
  if (!parse_list_params(rq, 100, 1000, &lp, res)) return;
  std::map<std::string, RuntimeSample> samples;
  common::Status st = latest_runtime(store, lp.range, lp.service, &samples);
  if (!st.ok()) return json_error(500, "reading metrics: " + st.to_string(), res);
  std::vector<const RuntimeSample*> rows;
  for (const auto& [k, s] : samples) rows.push_back(&s);
  JsonWriter w;
  begin_list(lp.range, &w);
  size_t end = page_end(lp.page, rows.size());
  for (size_t i = page_begin(lp.page, rows.size()); i < end; ++i) {
    const RuntimeSample& s = *rows[i];
    w.begin_object();
    w.key("service");
    w.string(s.service);
    w.key("instance");
    w.string(s.instance);
    w.key("time");
    w.string(format_rfc3339(s.time_unix_nano));
    opt(&w, "cpu_cores", s.cpu_cores);
    opt(&w, "rss_bytes", s.rss_bytes);
    opt(&w, "threads", s.threads);
    opt(&w, "gil_held_ratio", s.gil_held_ratio);
    opt(&w, "gil_wait_p99_ms", s.gil_wait_p99_seconds, 1000);
    opt(&w, "loop_lag_p99_ms", s.loop_lag_p99_seconds, 1000);
    opt(&w, "gc_pause_ms", s.gc_pause_seconds, 1000);
    w.key("gc_collections");
    w.begin_array();
    for (const auto& g : s.gc_collections) write_opt(&w, g.has_value(), g.value_or(0));
    w.end_array();
    opt(&w, "dropped", s.dropped);
    w.end_object();
  }
  end_list(lp.page, rows.size(), &w);
  res->set(200, "application/json", w.take());
}

}  // namespace

void add_runtime_route(http::Router* router, store::Store* store) {
  router->add("GET", "/api/v1/runtime", [store](const http::Request& rq, http::Response* res) {
    handle_runtime(store, rq, res);
  });
}

}  // namespace pyrometer::server::query
