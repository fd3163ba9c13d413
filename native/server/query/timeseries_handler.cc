// GET /api/v1/timeseries: one metric of a service (or endpoint) as points
// aligned to `step`: RED series from the rollups, saturation series from the
// agent's runtime metrics, Celery queue depth from its gauge metric.
#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "server/query/quantile.h"
#include "server/query/query_common.h"
#include "server/query/query_routes.h"
#include "server/query/queue_depth.h"
#include "server/query/red_stats.h"
#include "server/store/rollup.h"

namespace pyrometer::server::query {

namespace {

constexpr size_t kMaxPoints = 5000;

enum class Source { kRollup, kCounter, kGauge, kHistogramP99, kHistogramSum, kQueueDepth };

struct MetricDef {
  const char* name;
  const char* unit;
  Source source;
  const char* otel_name;  // the OTLP metric read (runtime sources)
};

constexpr MetricDef kMetrics[] = {
    {"rps", "1/s", Source::kRollup, ""},
    {"error_rate", "1", Source::kRollup, ""},
    {"p50", "ms", Source::kRollup, ""},
    {"p95", "ms", Source::kRollup, ""},
    {"p99", "ms", Source::kRollup, ""},
    {"apdex", "1", Source::kRollup, ""},
    {"cpu", "cores", Source::kCounter, "process.cpu.time"},
    {"rss", "By", Source::kGauge, "process.memory.usage"},
    {"threads", "1", Source::kGauge, "process.thread.count"},
    {"gc_pause", "s/s", Source::kHistogramSum, "pyrometer.gc.pause"},
    {"gil_wait_p99", "ms", Source::kHistogramP99, "pyrometer.gil.wait"},
    {"loop_lag_p99", "ms", Source::kHistogramP99, "pyrometer.asyncio.loop_lag"},
    {"queue_depth", "1", Source::kQueueDepth, kQueueDepthMetric},
    {"dropped_spans", "1", Source::kCounter, "pyrometer.exporter.dropped"},
};

std::string metric_names() {
  std::string s;
  for (const auto& m : kMetrics) s += (s.empty() ? "" : ", ") + std::string(m.name);
  return s;
}

struct Grid {
  uint64_t first = 0;  // aligned start of bucket 0
  uint64_t step = 0;
  size_t n = 0;
  long index(uint64_t t) const {
    if (t < first) return -1;
    uint64_t i = (t - first) / step;
    return i < n ? static_cast<long>(i) : -1;
  }
};

double number(const store::MetricPointRow& p) {
  return p.is_int ? static_cast<double>(p.int_value) : p.value;
}

void rollup_series(store::Store* store, const MetricDef& m, const std::string& service,
                   const std::string& endpoint, const Grid& g, double apdex_t,
                   std::vector<std::optional<double>>* out, common::Status* st) {
  std::vector<RedStats> buckets(g.n);
  store::RollupFilter f;
  f.start_unix_nano = g.first;
  f.end_unix_nano = g.first + g.step * g.n;
  f.service = service;
  f.route = endpoint;
  *st = store->scan_rollups(f, [&](const store::RollupRow& row) {
    if (!is_entry_kind(row.span_kind)) return true;
    long i = g.index(row.minute_unix_nano);
    if (i >= 0) buckets[static_cast<size_t>(i)].add(row);
    return true;
  });
  std::string name = m.name;
  double secs = static_cast<double>(g.step) / 1e9;
  for (size_t i = 0; i < g.n; ++i) {
    const RedStats& b = buckets[i];
    std::optional<double> v;
    if (name == "rps")
      v = static_cast<double>(b.count) / secs;
    else if (b.count == 0)
      v = std::nullopt;
    else if (name == "error_rate")
      v = static_cast<double>(b.errors) / static_cast<double>(b.count);
    else if (name == "apdex")
      v = apdex(b.ok, b.count, apdex_t);
    else {
      double q = name == "p50" ? 0.5 : name == "p95" ? 0.95 : 0.99;
      auto x = histogram_quantile(b.all, q);
      if (x) v = *x * 1000;
    }
    (*out)[i] = v;
  }
}

void runtime_series(store::Store* store, const MetricDef& m, const std::string& service,
                    const Grid& g, std::vector<std::optional<double>>* out, common::Status* st) {
  store::MetricFilter f;
  f.start_unix_nano = g.first;
  f.end_unix_nano = g.first + g.step * g.n;
  f.service = service;
  f.name = m.otel_name;
  struct Pt {
    uint64_t time, start;
    double value;
    uint8_t temporality;
  };
  std::map<std::string, std::vector<Pt>> series;  // counters: per instance + attributes
  std::map<std::pair<std::string, long>, std::pair<uint64_t, double>> last;  // gauges
  std::vector<store::RollupHistogram> hists(g.n);
  std::string key;
  *st = store->scan_metric_points(f, [&](const store::MetricPointRow& p) {
    if (p.name != m.otel_name) return true;
    long i = g.index(p.time_unix_nano);
    if (i < 0) return true;
    std::string instance = p.service + '\x1f' + instance_of(p.resource_attributes);
    if (m.source == Source::kGauge) {
      auto& l = last[{instance, i}];
      if (p.time_unix_nano >= l.first) l = {p.time_unix_nano, number(p)};
    } else if (m.source == Source::kCounter) {
      if (std::string(m.name) == "dropped_spans" && attr_str(p.attributes, "signal") != "traces")
        return true;
      key = instance;
      for (const auto& a : p.attributes) key += '\x1f' + a.key + '=' + attr_text(a.value);
      series[key].push_back({p.time_unix_nano, p.start_time_unix_nano, number(p), p.temporality});
    } else {
      store::RollupHistogram h;
      if (histogram_from_point(p, &h)) store::histogram_merge(&hists[static_cast<size_t>(i)], h);
    }
    return true;
  });
  double secs = static_cast<double>(g.step) / 1e9;
  if (m.source == Source::kGauge) {
    for (const auto& [k, v] : last) {
      auto& o = (*out)[static_cast<size_t>(k.second)];
      o = o.value_or(0) + v.second;
    }
  } else if (m.source == Source::kCounter) {
    bool per_second = std::string(m.name) == "cpu";
    for (auto& [k, pts] : series) {
      std::sort(pts.begin(), pts.end(), [](const Pt& a, const Pt& b) { return a.time < b.time; });
      for (size_t j = 0; j < pts.size(); ++j) {
        double inc = pts[j].temporality == 1 ? pts[j].value
                     : j > 0                 ? std::max(0.0, pts[j].value - pts[j - 1].value)
                                             : 0.0;
        auto& o = (*out)[static_cast<size_t>(g.index(pts[j].time))];
        o = o.value_or(0) + (per_second ? inc / secs : inc);
      }
    }
  } else {
    for (size_t i = 0; i < g.n; ++i) {
      if (histogram_count(hists[i]) == 0) continue;
      if (m.source == Source::kHistogramSum) {
        (*out)[i] = hists[i].sum / secs;
      } else if (auto q = histogram_quantile(hists[i], 0.99)) {
        (*out)[i] = *q * 1000;
      }
    }
  }
}

// Per queue and step, the newest reading; the queues of a step are summed.
void queue_series(store::Store* store, const std::string& service, const Grid& g,
                  std::vector<std::optional<double>>* out, common::Status* st) {
  TimeRange range{g.first, g.first + g.step * g.n};
  std::map<std::pair<std::string, long>, QueueDepthSample> last;
  *st = scan_queue_depths(
      store, range, service,
      [&](const std::string&, const std::string& queue, const QueueDepthSample& s) {
        long i = g.index(s.time_unix_nano);
        if (i < 0) return;
        QueueDepthSample& l = last[{queue, i}];
        if (s.time_unix_nano >= l.time_unix_nano) l = s;
      });
  for (const auto& [k, v] : last) {
    auto& o = (*out)[static_cast<size_t>(k.second)];
    o = o.value_or(0) + static_cast<double>(v.depth);
  }
}

void handle_timeseries(store::Store* store, const http::Request& rq, http::Response* res) {
  TimeRange range;
  common::Status st = parse_time_range(rq, now_unix_nano(), &range);
  if (!st.ok()) return json_error(400, st.message(), res);
  std::string metric = rq.query_param("metric");
  const MetricDef* m = nullptr;
  for (const auto& d : kMetrics) {
    if (metric == d.name) m = &d;
  }
  if (m == nullptr) {
    return json_error(
        400, "metric must be one of " + metric_names() + "; got \"" + metric.substr(0, 32) + "\"",
        res);
  }
  std::string service = rq.query_param("service");
  std::string endpoint = rq.query_param("endpoint");
  if (!endpoint.empty() && m->source != Source::kRollup) {
    return json_error(400, "endpoint applies only to rps, error_rate, p50, p95, p99 and apdex",
                      res);
  }
  uint64_t step = 0;
  std::string step_text = rq.query_param("step");
  if (!step_text.empty()) {
    st = parse_duration(step_text, &step);
    if (!st.ok()) return json_error(400, "step: " + st.message(), res);
  } else {
    // About 120 points, whole minutes.
    step =
        std::max<uint64_t>(1, (range.end_unix_nano - range.start_unix_nano) / 120 / kMinuteNanos) *
        kMinuteNanos;
  }
  if (step < kNanosPerSecond) return json_error(400, "step must be at least 1s", res);
  if (m->source == Source::kRollup && step % kMinuteNanos != 0) {
    return json_error(400,
                      "step must be a whole number of minutes for " + metric +
                          " (rollups have minute resolution)",
                      res);
  }
  Grid g;
  g.step = step;
  g.first = range.start_unix_nano / step * step;
  g.n = static_cast<size_t>((range.end_unix_nano - g.first + step - 1) / step);
  if (g.n > kMaxPoints) {
    return json_error(400,
                      "too many points (" + std::to_string(g.n) + " > " +
                          std::to_string(kMaxPoints) + "): use a larger step",
                      res);
  }
  double apdex_t = kDefaultApdexSeconds;
  std::string t = rq.query_param("apdex_t");
  if (!t.empty()) {
    char* end = nullptr;
    double ms = std::strtod(t.c_str(), &end);
    if (*end != '\0' || !(ms > 0)) return json_error(400, "apdex_t must be positive ms", res);
    apdex_t = ms / 1000;
  }
  std::vector<std::optional<double>> values(g.n);
  if (m->source == Source::kRollup) {
    rollup_series(store, *m, service, endpoint, g, apdex_t, &values, &st);
  } else if (m->source == Source::kQueueDepth) {
    queue_series(store, service, g, &values, &st);
  } else {
    runtime_series(store, *m, service, g, &values, &st);
  }
  if (!st.ok()) return json_error(500, "reading store: " + st.to_string(), res);
  JsonWriter w;
  w.begin_object();
  w.key("metric");
  w.string(m->name);
  w.key("unit");
  w.string(m->unit);
  w.key("service");
  w.string(service);
  w.key("endpoint");
  w.string(endpoint);
  w.key("step_seconds");
  w.number(static_cast<double>(step) / 1e9);
  w.key("since");
  w.string(format_rfc3339(g.first));
  w.key("until");
  w.string(format_rfc3339(g.first + g.step * g.n));
  w.key("points");
  w.begin_array();
  for (size_t i = 0; i < g.n; ++i) {
    w.begin_object();
    w.key("time_unix_nano");
    w.uint64(g.first + i * step);
    w.key("value");
    write_opt(&w, values[i].has_value(), values[i].value_or(0));
    w.end_object();
  }
  w.end_array();
  w.end_object();
  res->set(200, "application/json", w.take());
}

}  // namespace

void add_timeseries_route(http::Router* router, store::Store* store) {
  router->add("GET", "/api/v1/timeseries", [store](const http::Request& rq, http::Response* res) {
    handle_timeseries(store, rq, res);
  });
}

}  // namespace pyrometer::server::query
