// RED aggregation of the store's per-minute rollups over a time range, per
// service or per (service, endpoint), and the latest runtime sample per
// instance. Shared by /services, /endpoints, /timeseries and /metrics.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "common/status.h"
#include "server/query/time_range.h"
#include "server/store/store.h"

namespace pyrometer::server::query {

inline constexpr uint64_t kMinuteNanos = 60 * kNanosPerSecond;
inline constexpr double kDefaultApdexSeconds = 0.5;

struct RedStats {
  uint64_t count = 0;
  uint64_t errors = 0;
  store::RollupHistogram all;  // durations of every request, seconds
  store::RollupHistogram ok;   // durations of requests without errors (for Apdex)
  void add(const store::RollupRow& row);
};

// Rollups cover whole minutes: a range is widened to minute edges so rates
// divide the counted requests by the time they were counted over.
TimeRange minute_aligned(const TimeRange& r);

// True for rollup rows of entry spans (SERVER, CONSUMER): a service's
// requests. Internal and client spans of non-Pyrometer SDKs also have rows.
inline bool is_entry_kind(uint8_t kind) { return kind == 2 || kind == 5; }

// Aggregates entry rollup rows in `range` (minute aligned by the caller) per
// service (`by_route` false) or per service + "\x1f" + route.
common::Status aggregate_rollups(store::Store* store, const TimeRange& range,
                                 const std::string& service, const std::string& route,
                                 bool by_route, std::map<std::string, RedStats>* out);

// Latest runtime values of one instance.
struct RuntimeSample {
  std::string service;
  std::string instance;
  uint64_t time_unix_nano = 0;
  std::optional<double> cpu_cores;  // CPU seconds per second over the last interval
  std::optional<double> rss_bytes;
  std::optional<double> threads;
  std::optional<double> gil_held_ratio;
  std::optional<double> loop_lag_p99_seconds;
  // p99 of the agent's GIL wait histogram (pyrometer.gil.wait) over the range.
  std::optional<double> gil_wait_p99_seconds;
  std::optional<double> dropped;            // items the agent dropped in the range
  std::optional<double> gc_collections[3];  // per generation, in the range
  std::optional<double> gc_pause_seconds;   // total in the range
};

// Reads runtime metric points in `range` (optionally one service) and keeps
// the latest value per instance. Key: service + "\x1f" + instance.
common::Status latest_runtime(store::Store* store, const TimeRange& range,
                              const std::string& service,
                              std::map<std::string, RuntimeSample>* out);

// CPU cores used from a process.cpu.time point: delta points divide by their
// interval; cumulative ones by the interval since the previous point of the
// same series (`prev_value`/`prev_time` 0 when none: since start).
double cpu_rate(const store::MetricPointRow& p, double prev_value, uint64_t prev_time);

}  // namespace pyrometer::server::query
