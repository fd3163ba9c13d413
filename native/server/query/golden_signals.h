// GoldenSignals: the Prometheus exposition of per-service/route RED metrics
// (classic-bucket histogram, request and error counters), runtime gauges,
// Celery queue depth and insight counts, appended to the server's /metrics.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "server/store/store.h"

namespace pyrometer::server::query {

// Classic bucket upper bounds (seconds) of
// pyrometer_http_server_request_duration_seconds: the OTel HTTP defaults.
inline constexpr double kClassicBuckets[] = {0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
                                             0.5,   0.75, 1.0,   2.5,  5.0,   7.5, 10.0};
inline constexpr size_t kClassicBucketCount = sizeof(kClassicBuckets) / sizeof(double);
// At most this many (service, route) series; later routes of a service fold
// into route="__other__" so a route explosion cannot blow up the scrape.
inline constexpr size_t kMaxRouteSeries = 1000;

// Prometheus counters must only grow, while rollups are per-minute rows that
// keep growing while their minute's data arrives. So each render() re-reads the
// rollup rows of the last `lookback` minutes, adds what each row gained since
// the previous render to cumulative totals, and forgets rows older than that
// (late data for an older minute is not counted). Counters start at zero when
// the server starts, plus the lookback window read at the first scrape.
//
// Thread-safe: render() may be called from concurrent scrapes (serialised).
class GoldenSignals {
 public:
  explicit GoldenSignals(store::Store* store, uint64_t lookback_minutes = 10)
      : store_(store), lookback_minutes_(lookback_minutes) {}

  // Appends the exposition text (0.0.4) to `out`. `now_unix_nano` is the
  // scrape time. Store read errors are counted in
  // pyrometer_query_golden_signal_errors_total and the rest still rendered.
  void render(uint64_t now_unix_nano, std::string* out);

 private:
  struct Totals {
    uint64_t count = 0, errors = 0;
    double sum = 0;
    uint64_t buckets[kClassicBucketCount + 1] = {};  // per bucket (not cumulative), +Inf last
  };
  using SeriesKey = std::pair<std::string, std::string>;  // service, route
  using RowKey = std::tuple<uint64_t, std::string, std::string, uint8_t, std::string>;

  void update(uint64_t now);
  SeriesKey series_for(const std::string& service, const std::string& route);

  store::Store* store_;
  uint64_t lookback_minutes_;
  std::mutex mu_;
  std::map<SeriesKey, Totals> totals_;  // guarded by mu_
  std::map<RowKey, Totals> seen_;       // guarded by mu_: what each rollup row contributed
  std::map<std::string, size_t> routes_per_service_;
  uint64_t errors_ = 0;
};

}  // namespace pyrometer::server::query
