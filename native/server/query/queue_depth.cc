// Queue depth reads: the store's metric points filtered by name, the queue
// taken from the point's messaging.destination.name attribute.
#include "server/query/queue_depth.h"

#include <cmath>

#include "server/query/query_common.h"

namespace pyrometer::server::query {

common::Status scan_queue_depths(store::Store* store, const TimeRange& range,
                                 const std::string& service,
                                 const std::function<void(const std::string&, const std::string&,
                                                          const QueueDepthSample&)>& visit) {
  store::MetricFilter f;
  f.start_unix_nano = range.start_unix_nano;
  f.end_unix_nano = range.end_unix_nano;
  f.service = service;
  f.name = kQueueDepthMetric;
  std::string queue;
  return store->scan_metric_points(f, [&](const store::MetricPointRow& p) {
    if (p.name != kQueueDepthMetric || (p.type != store::MetricPointRow::Type::kGauge &&
                                        p.type != store::MetricPointRow::Type::kSum)) {
      return true;
    }
    QueueDepthSample s;
    s.time_unix_nano = p.time_unix_nano;
    s.depth = p.is_int ? p.int_value : static_cast<int64_t>(std::llround(p.value));
    queue.assign(attr_str(p.attributes, kQueueAttribute));
    visit(p.service, queue, s);
    return true;
  });
}

common::Status latest_queue_depths(
    store::Store* store, const TimeRange& range, const std::string& service,
    std::map<std::pair<std::string, std::string>, QueueDepthSample>* out) {
  return scan_queue_depths(
      store, range, service,
      [out](const std::string& svc, const std::string& queue, const QueueDepthSample& s) {
        QueueDepthSample& latest = (*out)[{svc, queue}];
        if (s.time_unix_nano >= latest.time_unix_nano) latest = s;
      });
}

}  // namespace pyrometer::server::query
