// Rule measurements: RED values from the rollups, RSS growth and dropped
// items from runtime metrics, insight counts from log records.
#include "server/alert/condition.h"

#include <algorithm>

#include "server/query/quantile.h"
#include "server/query/query_common.h"
#include "server/query/red_stats.h"

namespace pyrometer::server::alert {

namespace {

using common::Status;
using query::kMinuteNanos;

int severity_rank(const std::string& s) {
  if (s == "critical") return 5;
  if (s == "high") return 4;
  if (s == "warning" || s == "medium") return 3;
  if (s == "low") return 2;
  if (s == "info") return 1;
  return 0;
}

query::TimeRange window_of(uint64_t now, uint64_t window) {
  query::TimeRange r;
  r.end_unix_nano = now;
  r.start_unix_nano = now > window ? now - window : 0;
  return r;
}

Status red(store::Store* store, const Rule& rule, uint64_t now,
           std::map<std::string, double>* values) {
  // Rollups are per minute: the window covers the minutes it overlaps.
  query::TimeRange range = query::minute_aligned(window_of(now, rule.window_ns));
  std::map<std::string, query::RedStats> stats;
  Status st = query::aggregate_rollups(store, range, rule.service, rule.endpoint, false, &stats);
  if (!st.ok()) return st;
  std::map<std::string, query::RedStats> baseline;
  if (rule.metric == "p95_baseline_ratio") {
    query::TimeRange day{range.start_unix_nano > 86400 * query::kNanosPerSecond
                             ? range.start_unix_nano - 86400 * query::kNanosPerSecond
                             : 0,
                         range.start_unix_nano};
    st = query::aggregate_rollups(store, day, rule.service, rule.endpoint, false, &baseline);
    if (!st.ok()) return st;
  }
  for (const auto& [service, s] : stats) {
    if (s.count == 0 || s.count < rule.min_requests) continue;
    double n = static_cast<double>(s.count);
    if (rule.metric == "error_rate") {
      (*values)[service] = static_cast<double>(s.errors) / n;
    } else if (rule.metric == "rps") {
      (*values)[service] = n / range.seconds();
    } else if (rule.metric == "apdex") {
      (*values)[service] = query::apdex(s.ok, s.count, query::kDefaultApdexSeconds).value_or(1);
    } else if (rule.metric == "p95_ms" || rule.metric == "p99_ms") {
      double q = rule.metric == "p95_ms" ? 0.95 : 0.99;
      (*values)[service] = query::histogram_quantile(s.all, q).value_or(0) * 1000;
    } else {  // p95_baseline_ratio
      auto it = baseline.find(service);
      if (it == baseline.end() || it->second.count < rule.min_requests) continue;
      double base = query::histogram_quantile(it->second.all, 0.95).value_or(0);
      if (base > 0) (*values)[service] = query::histogram_quantile(s.all, 0.95).value_or(0) / base;
    }
  }
  return Status::ok_status();
}

Status runtime(store::Store* store, const Rule& rule, uint64_t now,
               std::map<std::string, double>* values) {
  query::TimeRange range = window_of(now, rule.window_ns);
  store::MetricFilter f;
  f.start_unix_nano = range.start_unix_nano;
  f.end_unix_nano = range.end_unix_nano;
  f.service = rule.service;
  bool growth = rule.metric == "rss_growth";
  f.name = growth ? "process.memory.usage" : "pyrometer.exporter.dropped";
  struct Span {
    uint64_t t0 = UINT64_MAX, t1 = 0;
    double v0 = 0, v1 = 0;
  };
  std::map<std::pair<std::string, std::string>, Span> rss;
  std::map<std::string, double> dropped;
  Status st = store->scan_metric_points(f, [&](const store::MetricPointRow& p) {
    double v = p.is_int ? static_cast<double>(p.int_value) : p.value;
    if (growth) {
      Span& s = rss[{p.service, query::instance_of(p.resource_attributes)}];
      if (p.time_unix_nano < s.t0) s.t0 = p.time_unix_nano, s.v0 = v;
      if (p.time_unix_nano >= s.t1) s.t1 = p.time_unix_nano, s.v1 = v;
    } else if (p.temporality == 1) {  // delta counts; cumulative ones are not summed
      dropped[p.service] += v;
    }
    return true;
  });
  if (!st.ok()) return st;
  if (!growth) {
    for (const auto& [service, n] : dropped) (*values)[service] = n;
    return st;
  }
  // Need at least a quarter of the window between samples to call it a trend.
  for (const auto& [key, s] : rss) {
    if (s.t1 <= s.t0 || s.v0 <= 0 || (s.t1 - s.t0) * 4 < rule.window_ns) continue;
    double hours = static_cast<double>(s.t1 - s.t0) / 3600e9;
    double g = (s.v1 - s.v0) / s.v0 / hours;
    auto it = values->find(key.first);
    if (it == values->end() || g > it->second) (*values)[key.first] = g;
  }
  return st;
}

Status insights(store::Store* store, const Rule& rule, uint64_t now,
                std::map<std::string, double>* values) {
  query::TimeRange range = window_of(now, rule.window_ns);
  store::LogFilter f;
  f.start_unix_nano = range.start_unix_nano;
  f.end_unix_nano = range.end_unix_nano;
  f.service = rule.service;
  f.event_name = "pyrometer.insight";
  int min_rank = severity_rank(rule.min_severity);
  return store->scan_logs(f, [&](const store::LogRow& r) {
    const store::AttrValue* sev = query::find_attr(r.attributes, "pyrometer.insight.severity");
    if (severity_rank(sev ? query::attr_text(*sev) : "") < min_rank) return true;
    (*values)[r.service] += 1;
    return true;
  });
}

}  // namespace

Status measure(store::Store* store, const Rule& rule, uint64_t now,
               std::map<std::string, double>* values) {
  if (rule.metric == "rss_growth" || rule.metric == "dropped") {
    return runtime(store, rule, now, values);
  }
  if (rule.metric == "insights") return insights(store, rule, now, values);
  return red(store, rule, now, values);
}

}  // namespace pyrometer::server::alert
