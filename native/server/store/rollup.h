// Rollups: per-minute RED aggregates (service, route, span kind, status class
// → count, errors, exponential histogram of duration), kept far longer than
// raw spans. Built from two sources, never both for one service:
//   * spans of resources whose telemetry.sdk.name is NOT "pyrometer"
//     (any OTel SDK: every span counts once);
//   * delta-temporality histogram points named http.server.request.duration or
//     pyrometer.span.duration from resources whose telemetry.sdk.name IS
//     "pyrometer" (the agent computes RED from 100% of requests, while its
//     spans are sampled, so counting its spans would undercount and double count).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <tuple>

#include "common/otlp_model.h"
#include "server/store/store.h"

namespace pyrometer::server::store {

inline constexpr int32_t kRollupSpanScale = 3;  // buckets grow by 2^(1/8): ±4.4% error
inline constexpr size_t kRollupMaxBuckets = 160;
inline constexpr size_t kRollupMaxKeys = 200000;  // per RollupSet; more keys are dropped + counted
inline constexpr uint64_t kMinuteNanos = 60ull * 1000 * 1000 * 1000;

// Histogram helpers (OTLP base-2 exponential bucket mapping).
void histogram_record(RollupHistogram* h, double value, uint64_t count);
void histogram_merge(RollupHistogram* into, const RollupHistogram& from);

// Not thread-safe; the head locks around it.
class RollupSet {
 public:
  void add_traces(const common::otlp::TracesRequest& req);
  void add_metrics(const common::otlp::MetricsRequest& req);
  void merge(const RollupRow& row);
  void merge_all(const RollupSet& other);
  // Visits rows in (minute, service, route, kind, status) order.
  bool visit(const RollupFilter& f, const std::function<bool(const RollupRow&)>& fn) const;
  size_t size() const { return rows_.size(); }
  size_t bytes() const { return bytes_; }
  int64_t dropped() const { return dropped_; }
  uint64_t min_minute() const { return rows_.empty() ? 0 : std::get<0>(rows_.begin()->first); }
  uint64_t max_minute() const { return rows_.empty() ? 0 : std::get<0>(rows_.rbegin()->first); }

  void serialize(std::string* out) const;
  Status parse(std::string_view in);

 private:
  using Key = std::tuple<uint64_t, std::string, std::string, uint8_t, std::string>;
  // Looked up without building a Key (std::less<> compares tuples element-wise),
  // so finding an existing row allocates nothing: this runs once per span.
  using KeyView =
      std::tuple<uint64_t, std::string_view, std::string_view, uint8_t, std::string_view>;
  RollupRow* row_for(uint64_t minute, std::string_view service, std::string_view route,
                     uint8_t kind, std::string_view status_class);
  std::map<Key, RollupRow, std::less<>> rows_;
  size_t bytes_ = 0;
  int64_t dropped_ = 0;
};

// True when the resource says telemetry.sdk.name = "pyrometer".
bool is_pyrometer_resource(const common::otlp::Resource& res);

}  // namespace pyrometer::server::store
