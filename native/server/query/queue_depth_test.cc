// Queue depth reads: newest point per (service, queue) whatever the order the
// store returns them in, int and double points, other metrics ignored.
#include "server/query/queue_depth.h"

#include <gtest/gtest.h>

#include "server/testing/fake_store.h"

namespace pyrometer::server::query {
namespace {

using store::MetricPointRow;

class MetricStore : public testing::FakeStore {
 public:
  std::vector<MetricPointRow> points;
  store::MetricFilter last_filter;
  common::Status scan_metric_points(
      const store::MetricFilter& f,
      const std::function<bool(const MetricPointRow&)>& visit) override {
    last_filter = f;
    for (const auto& p : points) {
      if (p.time_unix_nano < f.start_unix_nano || p.time_unix_nano >= f.end_unix_nano) continue;
      if (!f.name.empty() && p.name != f.name) continue;
      if (!f.service.empty() && p.service != f.service) continue;
      if (!visit(p)) break;
    }
    return {};
  }
};

MetricPointRow point(std::string service, std::string queue, uint64_t time, double depth,
                     bool is_int = true, std::string name = kQueueDepthMetric) {
  MetricPointRow p;
  p.name = std::move(name);
  p.service = std::move(service);
  p.type = MetricPointRow::Type::kGauge;
  p.time_unix_nano = time;
  p.is_int = is_int;
  p.int_value = static_cast<int64_t>(depth);
  p.value = depth;
  auto text = [](std::string v) {
    store::AttrValue a;
    a.type = store::AttrValue::Type::kString;
    a.str = std::move(v);
    return a;
  };
  p.attributes.push_back({"messaging.system", text("celery")});
  p.attributes.push_back({kQueueAttribute, text(std::move(queue))});
  return p;
}

TEST(QueueDepthTest, NewestPointPerServiceAndQueue) {
  MetricStore s;
  s.points = {point("worker", "emails", 30, 7), point("worker", "emails", 10, 99),
              point("worker", "default", 20, 2.6, false), point("other", "emails", 5, 1),
              point("worker", "emails", 40, 1000, true, "process.memory.usage")};
  std::map<std::pair<std::string, std::string>, QueueDepthSample> out;
  ASSERT_TRUE(latest_queue_depths(&s, TimeRange{0, 100}, "", &out).ok());
  EXPECT_EQ(s.last_filter.name, kQueueDepthMetric);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ((out[{"worker", "emails"}].depth), 7);
  EXPECT_EQ((out[{"worker", "emails"}].time_unix_nano), 30u);
  EXPECT_EQ((out[{"worker", "default"}].depth), 3);  // a double reading, rounded
  EXPECT_EQ((out[{"other", "emails"}].depth), 1);

  out.clear();
  ASSERT_TRUE(latest_queue_depths(&s, TimeRange{0, 25}, "worker", &out).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ((out[{"worker", "emails"}].depth), 99);  // the range ends before the newer one
}

}  // namespace
}  // namespace pyrometer::server::query
