// Golden signals for Prometheus: rollup deltas into cumulative counters and
// classic buckets, runtime gauges, queue depth and insight counts.
#include "server/query/golden_signals.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "common/exp_histogram.h"
#include "server/query/query_common.h"
#include "server/query/queue_depth.h"
#include "server/query/red_stats.h"

namespace pyrometer::server::query {

namespace {

// Label values escaped per the text format (backslash, quote, newline).
std::string esc(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string num(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // Shortest text that reads back as v: le="0.025", not "0.025000000000000001".
  char buf[32];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

// Classic bucket of an exponential bucket: by its estimate point 2LU/(L+U),
// the value the quantiles report, so both views agree.
size_t classic_index(double v) {
  for (size_t i = 0; i < kClassicBucketCount; ++i) {
    if (v <= kClassicBuckets[i]) return i;
  }
  return kClassicBucketCount;
}

void classic_of(const store::RollupRow& row, uint64_t* buckets) {
  const store::RollupHistogram& h = row.duration_seconds;
  int32_t scale = std::clamp(h.scale, common::kExpHistogramMinScale, common::kExpHistogramMaxScale);
  buckets[0] += h.zero_count;
  for (size_t i = 0; i < h.counts.size(); ++i) {
    if (!h.counts[i]) continue;
    int64_t idx = static_cast<int64_t>(h.offset) + static_cast<int64_t>(i);
    double lo = common::exp_lower_boundary(idx, scale);
    double hi = common::exp_lower_boundary(idx + 1, scale);
    double m = std::isfinite(hi) ? 2 * lo * hi / (lo + hi) : lo;
    buckets[classic_index(std::clamp(m, h.min, h.max))] += h.counts[i];
  }
}

}  // namespace

GoldenSignals::SeriesKey GoldenSignals::series_for(const std::string& service,
                                                   const std::string& route) {
  SeriesKey k{service, route};
  if (totals_.count(k)) return k;
  if (totals_.size() >= kMaxRouteSeries) return {service, "__other__"};
  return k;
}

void GoldenSignals::update(uint64_t now) {
  uint64_t end = (now / kMinuteNanos + 1) * kMinuteNanos;
  uint64_t start = end - (lookback_minutes_ + 1) * kMinuteNanos;
  store::RollupFilter f;
  f.start_unix_nano = start;
  f.end_unix_nano = end;
  common::Status st = store_->scan_rollups(f, [&](const store::RollupRow& row) {
    if (!is_entry_kind(row.span_kind) || row.minute_unix_nano < start) return true;
    RowKey rk{row.minute_unix_nano, row.service, row.route, row.span_kind, row.status_class};
    Totals now_row;
    now_row.count = row.count;
    now_row.errors = row.errors;
    now_row.sum = row.duration_seconds.sum;
    classic_of(row, now_row.buckets);
    Totals& before = seen_[rk];
    Totals& t = totals_[series_for(row.service, row.route)];
    if (now_row.count > before.count) t.count += now_row.count - before.count;
    if (now_row.errors > before.errors) t.errors += now_row.errors - before.errors;
    if (now_row.sum > before.sum) t.sum += now_row.sum - before.sum;
    for (size_t i = 0; i <= kClassicBucketCount; ++i) {
      // A downscaled row may move a count between neighbouring buckets; never go back.
      if (now_row.buckets[i] > before.buckets[i]) {
        t.buckets[i] += now_row.buckets[i] - before.buckets[i];
        before.buckets[i] = now_row.buckets[i];
      }
    }
    before.count = std::max(before.count, now_row.count);
    before.errors = std::max(before.errors, now_row.errors);
    before.sum = std::max(before.sum, now_row.sum);
    return true;
  });
  if (!st.ok()) ++errors_;
  // Rows older than the window are final as far as the scrape is concerned.
  for (auto it = seen_.begin(); it != seen_.end() && std::get<0>(it->first) < start;) {
    it = seen_.erase(it);
  }
}

void GoldenSignals::render(uint64_t now, std::string* out) {
  std::lock_guard<std::mutex> lock(mu_);
  update(now);
  const std::string h = "pyrometer_http_server_request_duration_seconds";
  *out += "# HELP " + h +
          " Duration of requests (server and consumer spans) per service and route.\n"
          "# TYPE " +
          h + " histogram\n";
  for (const auto& [k, t] : totals_) {
    std::string labels = "service=\"" + esc(k.first) + "\",route=\"" + esc(k.second) + "\"";
    uint64_t cum = 0;
    for (size_t i = 0; i < kClassicBucketCount; ++i) {
      cum += t.buckets[i];
      *out += h + "_bucket{" + labels + ",le=\"" + num(kClassicBuckets[i]) + "\"} " +
              std::to_string(cum) + "\n";
    }
    *out += h + "_bucket{" + labels + ",le=\"+Inf\"} " + std::to_string(t.count) + "\n";
    *out += h + "_sum{" + labels + "} " + num(t.sum) + "\n";
    *out += h + "_count{" + labels + "} " + std::to_string(t.count) + "\n";
  }
  auto counter = [&](const char* name, const char* help, bool errors) {
    *out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n";
    for (const auto& [k, t] : totals_) {
      *out += std::string(name) + "{service=\"" + esc(k.first) + "\",route=\"" + esc(k.second) +
              "\"} " + std::to_string(errors ? t.errors : t.count) + "\n";
    }
  };
  counter("pyrometer_http_server_requests_total", "Requests per service and route.", false);
  counter("pyrometer_http_server_errors_total", "Failed requests (5xx or span status ERROR).",
          true);

  // Runtime gauges: the latest sample per instance of the last 5 minutes. The
  // label is service_instance: Prometheus owns "instance" (the scrape target).
  TimeRange recent{now > 5 * kMinuteNanos ? now - 5 * kMinuteNanos : 0, now + kMinuteNanos};
  std::map<std::string, RuntimeSample> runtime;
  if (!latest_runtime(store_, recent, "", &runtime).ok()) ++errors_;
  auto gauge = [&](const char* name, const char* help, auto get) {
    *out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " gauge\n";
    for (const auto& [k, s] : runtime) {
      std::optional<double> v = get(s);
      if (!v) continue;
      *out += std::string(name) + "{service=\"" + esc(s.service) + "\",service_instance=\"" +
              esc(s.instance) + "\"} " + num(*v) + "\n";
    }
  };
  gauge("pyrometer_process_cpu_cores", "CPU seconds per second of the instance.",
        [](const RuntimeSample& s) { return s.cpu_cores; });
  gauge("pyrometer_process_resident_memory_bytes", "Resident set size of the instance.",
        [](const RuntimeSample& s) { return s.rss_bytes; });
  gauge("pyrometer_process_threads", "OS threads of the instance.",
        [](const RuntimeSample& s) { return s.threads; });
  gauge("pyrometer_gil_held_ratio", "Fraction of samples in which the GIL was held.",
        [](const RuntimeSample& s) { return s.gil_held_ratio; });
  gauge("pyrometer_asyncio_loop_lag_p99_seconds", "p99 event-loop lag, last 5 minutes.",
        [](const RuntimeSample& s) { return s.loop_lag_p99_seconds; });

  // Celery queue depth (the agent's gauge metric) and insight counts (log
  // records), last hour.
  TimeRange hour{now > 60 * kMinuteNanos ? now - 60 * kMinuteNanos : 0, now + kMinuteNanos};
  std::map<std::pair<std::string, std::string>, QueueDepthSample> queues;
  if (!latest_queue_depths(store_, hour, "", &queues).ok()) ++errors_;
  std::map<std::tuple<std::string, std::string, std::string>, uint64_t> insights;
  store::LogFilter lf;
  lf.start_unix_nano = hour.start_unix_nano;
  lf.end_unix_nano = hour.end_unix_nano;
  common::Status st = store_->scan_logs(lf, [&](const store::LogRow& r) {
    if (r.event_name == "pyrometer.insight" && insights.size() < kMaxRouteSeries) {
      const store::AttrValue* kind = find_attr(r.attributes, "pyrometer.insight.kind");
      const store::AttrValue* sev = find_attr(r.attributes, "pyrometer.insight.severity");
      insights[{r.service, kind ? attr_text(*kind) : "", sev ? attr_text(*sev) : ""}]++;
    }
    return true;
  });
  if (!st.ok()) ++errors_;
  *out +=
      "# HELP pyrometer_celery_queue_depth Messages waiting in a Celery queue (latest sample).\n"
      "# TYPE pyrometer_celery_queue_depth gauge\n";
  for (const auto& [k, v] : queues) {
    *out += "pyrometer_celery_queue_depth{service=\"" + esc(k.first) + "\",queue=\"" +
            esc(k.second) + "\"} " + std::to_string(v.depth) + "\n";
  }
  *out +=
      "# HELP pyrometer_insights_last_hour Insight records in the last hour.\n"
      "# TYPE pyrometer_insights_last_hour gauge\n";
  for (const auto& [k, n] : insights) {
    *out += "pyrometer_insights_last_hour{service=\"" + esc(std::get<0>(k)) + "\",kind=\"" +
            esc(std::get<1>(k)) + "\",severity=\"" + esc(std::get<2>(k)) + "\"} " +
            std::to_string(n) + "\n";
  }
  *out +=
      "# HELP pyrometer_query_golden_signal_errors_total Store reads that failed while "
      "rendering golden signals.\n# TYPE pyrometer_query_golden_signal_errors_total counter\n"
      "pyrometer_query_golden_signal_errors_total " +
      std::to_string(errors_) + "\n";
}

}  // namespace pyrometer::server::query
