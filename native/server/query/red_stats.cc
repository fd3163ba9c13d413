// Rollup and runtime-metric aggregation for the golden-signal endpoints.
#include "server/query/red_stats.h"

#include <algorithm>

#include "server/query/quantile.h"
#include "server/query/query_common.h"
#include "server/store/rollup.h"

namespace pyrometer::server::query {

void RedStats::add(const store::RollupRow& row) {
  count += row.count;
  errors += row.errors;
  store::histogram_merge(&all, row.duration_seconds);
  if (row.errors == 0) store::histogram_merge(&ok, row.duration_seconds);
}

TimeRange minute_aligned(const TimeRange& r) {
  TimeRange out;
  out.start_unix_nano = r.start_unix_nano / kMinuteNanos * kMinuteNanos;
  out.end_unix_nano = (r.end_unix_nano + kMinuteNanos - 1) / kMinuteNanos * kMinuteNanos;
  return out;
}

common::Status aggregate_rollups(store::Store* store, const TimeRange& range,
                                 const std::string& service, const std::string& route,
                                 bool by_route, std::map<std::string, RedStats>* out) {
  store::RollupFilter f;
  f.start_unix_nano = range.start_unix_nano;
  f.end_unix_nano = range.end_unix_nano;
  f.service = service;
  f.route = route;
  std::string key;
  return store->scan_rollups(f, [&](const store::RollupRow& row) {
    if (!is_entry_kind(row.span_kind)) return true;
    if (row.minute_unix_nano < range.start_unix_nano) return true;  // partial overlap
    key = row.service;
    if (by_route) {
      key += '\x1f';
      key += row.route;
    }
    (*out)[key].add(row);
    return true;
  });
}

double cpu_rate(const store::MetricPointRow& p, double prev_value, uint64_t prev_time) {
  double v = p.is_int ? static_cast<double>(p.int_value) : p.value;
  if (p.temporality == 1) {  // delta
    if (p.time_unix_nano <= p.start_time_unix_nano) return 0;
    return v / (static_cast<double>(p.time_unix_nano - p.start_time_unix_nano) / 1e9);
  }
  uint64_t t0 = prev_time != 0 ? prev_time : p.start_time_unix_nano;
  double v0 = prev_time != 0 ? prev_value : 0;
  if (p.time_unix_nano <= t0) return 0;
  return std::max(0.0, v - v0) / (static_cast<double>(p.time_unix_nano - t0) / 1e9);
}

namespace {

double point_value(const store::MetricPointRow& p) {
  return p.is_int ? static_cast<double>(p.int_value) : p.value;
}

}  // namespace

common::Status latest_runtime(store::Store* store, const TimeRange& range,
                              const std::string& service,
                              std::map<std::string, RuntimeSample>* out) {
  // Per instance and CPU mode: the newest point (and the one before, for
  // cumulative sums), and histograms merged over the range.
  struct CpuSeries {
    uint64_t time = 0, prev_time = 0;
    double value = 0, prev_value = 0;
    store::MetricPointRow last;
  };
  std::map<std::string, std::map<std::string, CpuSeries>> cpu;
  std::map<std::string, store::RollupHistogram> lag, gil_wait;
  std::map<std::string, uint64_t> rss_time, thread_time, gil_time;
  store::MetricFilter f;
  f.start_unix_nano = range.start_unix_nano;
  f.end_unix_nano = range.end_unix_nano;
  f.service = service;
  std::string key;
  common::Status st = store->scan_metric_points(f, [&](const store::MetricPointRow& p) {
    const std::string& n = p.name;
    bool wanted = n == "process.cpu.time" || n == "process.memory.usage" ||
                  n == "process.thread.count" || n == "pyrometer.gil.held_ratio" ||
                  n == "pyrometer.asyncio.loop_lag" || n == "pyrometer.exporter.dropped" ||
                  n == "cpython.gc.collections" || n == "pyrometer.gc.pause" ||
                  n == "pyrometer.gil.wait";
    if (!wanted) return true;
    std::string instance = instance_of(p.resource_attributes);
    key = p.service + '\x1f' + instance;
    RuntimeSample& s = (*out)[key];
    s.service = p.service;
    s.instance = instance;
    s.time_unix_nano = std::max(s.time_unix_nano, p.time_unix_nano);
    double v = point_value(p);
    auto latest = [&](std::map<std::string, uint64_t>* times, std::optional<double>* field) {
      uint64_t& t = (*times)[key];
      if (p.time_unix_nano >= t) {
        t = p.time_unix_nano;
        *field = v;
      }
    };
    if (n == "process.memory.usage") {
      latest(&rss_time, &s.rss_bytes);
    } else if (n == "process.thread.count") {
      latest(&thread_time, &s.threads);
    } else if (n == "pyrometer.gil.held_ratio") {
      latest(&gil_time, &s.gil_held_ratio);
    } else if (n == "process.cpu.time") {
      CpuSeries& c = cpu[key][std::string(attr_str(p.attributes, "cpu.mode"))];
      if (p.time_unix_nano > c.time) {
        c.prev_time = c.time;
        c.prev_value = c.value;
        c.time = p.time_unix_nano;
        c.value = v;
        c.last = p;
      } else if (p.time_unix_nano > c.prev_time && p.time_unix_nano < c.time) {
        c.prev_time = p.time_unix_nano;
        c.prev_value = v;
      }
    } else if (n == "pyrometer.exporter.dropped") {
      if (p.temporality == 1)
        s.dropped = s.dropped.value_or(0) + v;
      else
        s.dropped = std::max(s.dropped.value_or(0), v);  // cumulative: the newest total
    } else if (n == "cpython.gc.collections") {
      int64_t gen = 0;
      if (attr_int(p.attributes, "cpython.gc.generation", &gen) && gen >= 0 && gen < 3) {
        auto& g = s.gc_collections[gen];
        g = p.temporality == 1 ? g.value_or(0) + v : std::max(g.value_or(0), v);
      }
    } else if (n == "pyrometer.gc.pause") {
      store::RollupHistogram h;
      if (histogram_from_point(p, &h)) s.gc_pause_seconds = s.gc_pause_seconds.value_or(0) + h.sum;
    } else if (n == "pyrometer.asyncio.loop_lag") {
      store::RollupHistogram h;
      if (histogram_from_point(p, &h)) store::histogram_merge(&lag[key], h);
    } else if (n == "pyrometer.gil.wait") {
      store::RollupHistogram h;
      if (histogram_from_point(p, &h)) store::histogram_merge(&gil_wait[key], h);
    }
    return true;
  });
  if (!st.ok()) return st;
  for (auto& [k, modes] : cpu) {
    double total = 0;
    for (auto& [mode, c] : modes) total += cpu_rate(c.last, c.prev_value, c.prev_time);
    (*out)[k].cpu_cores = total;
  }
  for (auto& [k, h] : lag) {
    auto q = histogram_quantile(h, 0.99);
    if (q) (*out)[k].loop_lag_p99_seconds = *q;
  }
  for (auto& [k, h] : gil_wait) {
    auto q = histogram_quantile(h, 0.99);
    if (q) (*out)[k].gil_wait_p99_seconds = *q;
  }
  return common::Status::ok_status();
}

}  // namespace pyrometer::server::query
