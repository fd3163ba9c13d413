// Celery queue depth as the agent exports it: the gauge metric
// pyrometer.celery.queue.depth, read by /api/v1/tasks, /timeseries and /metrics.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>

#include "common/status.h"
#include "server/query/time_range.h"
#include "server/store/store.h"

namespace pyrometer::server::query {

// The metric name and its queue attribute (docs/format/agent-metrics.md).
inline constexpr const char* kQueueDepthMetric = "pyrometer.celery.queue.depth";
inline constexpr const char* kQueueAttribute = "messaging.destination.name";

struct QueueDepthSample {
  uint64_t time_unix_nano = 0;
  int64_t depth = 0;
};

// Calls `visit(service, queue, sample)` for every number point of the gauge in
// `range` (optionally of one service). Points of another type are skipped.
common::Status scan_queue_depths(
    store::Store* store, const TimeRange& range, const std::string& service,
    const std::function<void(const std::string& service, const std::string& queue,
                             const QueueDepthSample&)>& visit);

// The newest sample per (service, queue) in `range`. Several workers sampling
// the same queue report the same list: the newest reading wins, never a sum.
common::Status latest_queue_depths(
    store::Store* store, const TimeRange& range, const std::string& service,
    std::map<std::pair<std::string, std::string>, QueueDepthSample>* out);

}  // namespace pyrometer::server::query
