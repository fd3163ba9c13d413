// otlp_batch: traces/logs/metrics built from agent records survive an
// encode → decode round trip through the common codec, field for field.
#include "agent/otlp_batch.h"

#include <gtest/gtest.h>

#include "common/otlp_codec.h"

namespace pyrometer::agent {
namespace {

std::string_view str_attr(const std::vector<otlp::KeyValue>& kvs, std::string_view key) {
  for (const auto& kv : kvs) {
    if (kv.key == key) return kv.value.string_value;
  }
  return {};
}

TEST(OtlpBatchTest, TracesRoundTrip) {
  ExportResource res{"checkout", {{"deployment.environment.name", "prod"}}, "inst-1"};
  SpanRecord s;
  for (int i = 0; i < 16; ++i) s.trace_id[i] = static_cast<uint8_t>(i + 1);
  for (int i = 0; i < 8; ++i) s.span_id[i] = static_cast<uint8_t>(0xA0 + i);
  s.parent_span_id[0] = 7;
  s.has_parent = true;
  s.trace_flags = 1;
  s.name = "GET /cart";
  s.kind = otlp::SpanKind::kServer;
  s.start_unix_nano = 100;
  s.end_unix_nano = 200;
  s.attributes = {{"http.route", std::string("/cart")},
                  {"http.response.status_code", int64_t{500}},
                  {"ratio", 0.5},
                  {"tags", std::vector<AttrScalar>{std::string("a"), int64_t{2}}}};
  s.events.push_back(
      EventRecord{150, "exception", {{"exception.type", std::string("ValueError")}}});
  s.exception_stack = {{"app.py", 10, "handler", true}, {"lib.py", 20, "call", false}};
  s.status_code = otlp::StatusCode::kError;
  s.status_message = "boom";
  std::vector<std::vector<SpanRecord>> traces{{s}};

  std::string wire;
  {
    otlp::TracesRequest req;
    build_traces_request(res, traces, &req);
    common::otlp::encode_traces(req, &wire);
  }
  otlp::TracesRequest got;
  ASSERT_TRUE(common::otlp::decode_traces(wire, &got).ok());
  ASSERT_EQ(got.resource_spans.size(), 1u);
  const auto& rs = got.resource_spans[0];
  EXPECT_EQ(str_attr(rs.resource.attributes, "service.name"), "checkout");
  EXPECT_EQ(str_attr(rs.resource.attributes, "service.instance.id"), "inst-1");
  EXPECT_EQ(str_attr(rs.resource.attributes, "deployment.environment.name"), "prod");
  const otlp::Span& o = rs.scope_spans[0].spans[0];
  EXPECT_EQ(o.trace_id, std::string_view(reinterpret_cast<const char*>(s.trace_id), 16));
  EXPECT_EQ(o.parent_span_id.size(), 8u);
  EXPECT_EQ(o.name, "GET /cart");
  EXPECT_EQ(o.kind, otlp::SpanKind::kServer);
  EXPECT_EQ(o.flags & 0xFF, 1u);
  EXPECT_EQ(str_attr(o.attributes, "http.route"), "/cart");
  EXPECT_EQ(o.attributes[1].value.int_value, 500);
  EXPECT_EQ(o.attributes[2].value.double_value, 0.5);
  EXPECT_EQ(o.attributes[3].value.array_value.size(), 2u);
  EXPECT_EQ(o.status_code, otlp::StatusCode::kError);
  ASSERT_EQ(o.events.size(), 1u);
  EXPECT_NE(str_attr(o.events[0].attributes, "exception.stacktrace").find("app.py"),
            std::string_view::npos);
  bool frames = false;
  for (const auto& kv : o.events[0].attributes) {
    if (kv.key != "pyrometer.exception.frames") continue;
    frames = true;
    ASSERT_EQ(kv.value.array_value.size(), 2u);
    EXPECT_EQ(str_attr(kv.value.array_value[0].kvlist_value, "function"), "handler");
  }
  EXPECT_TRUE(frames);
}

TEST(OtlpBatchTest, PendingKeepReasonIsEncodedOnceReplacingTheAppsValue) {
  ExportResource res{"svc", {}, "id"};
  SpanRecord s;
  s.span_id[0] = 1;
  s.name = "root";
  s.attributes = {{"pyrometer.keep_reason", std::string("mine")}, {"a", int64_t{1}}};
  s.pending_keep_reason = "slow";  // what LocalTrace::end_root leaves for the pipeline
  SpanRecord child;
  child.span_id[0] = 2;
  child.name = "child";
  child.attributes = {{"pyrometer.keep_reason", std::string("mine")}};  // no pending: kept as is
  std::vector<std::vector<SpanRecord>> traces{{child, s}};
  otlp::TracesRequest req;
  build_traces_request(res, traces, &req);
  const auto& spans = req.resource_spans[0].scope_spans[0].spans;
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(str_attr(spans[0].attributes, "pyrometer.keep_reason"), "mine");
  const auto& attrs = spans[1].attributes;
  ASSERT_EQ(attrs.size(), 2u);
  EXPECT_EQ(attrs[0].key, "a");
  EXPECT_EQ(str_attr(attrs, "pyrometer.keep_reason"), "slow");
  EXPECT_EQ(s.attributes.size(), 2u);  // the record itself is not touched
}

TEST(OtlpBatchTest, LogsRoundTrip) {
  ExportResource res{"svc", {}, "i"};
  LogRecordData r;
  r.time_unix_nano = 5;
  r.severity_number = severity_from_python_level(40);
  r.severity_text = "ERROR";
  r.body = "disk full";
  r.event_name = "pyrometer.insight";
  r.attributes = {{"k", std::string("v")}};
  r.has_trace = true;
  r.trace_id[0] = 1;
  r.span_id[0] = 2;
  std::vector<LogRecordData> logs{r};  // must outlive the request's views
  std::string wire;
  {
    otlp::LogsRequest req;
    build_logs_request(res, logs, &req);
    common::otlp::encode_logs(req, &wire);
  }
  otlp::LogsRequest got;
  ASSERT_TRUE(common::otlp::decode_logs(wire, &got).ok());
  const auto& rec = got.resource_logs[0].scope_logs[0].log_records[0];
  EXPECT_EQ(rec.severity_number, 17);
  EXPECT_EQ(rec.body.string_value, "disk full");
  EXPECT_EQ(rec.trace_id.size(), 16u);
  EXPECT_EQ(rec.event_name, "pyrometer.insight");
}

TEST(OtlpBatchTest, MetricsBuilderGroupsPointsByName) {
  ExportResource res{"svc", {}, "i"};
  otlp::MetricsRequest req;
  MetricsBuilder b(res, &req);
  std::string temp = "traces";
  b.add_sum("pyrometer.exporter.dropped", "{item}", "d", 3, true, true,
            {{"signal", otlp::AnyValue::of_string(temp)}}, 1, 2);
  temp = "XXXXXX";  // the builder copied the attribute value
  b.add_sum("pyrometer.exporter.dropped", "{item}", "d", 4, true, true,
            {{"signal", otlp::AnyValue::of_string("logs")}}, 1, 2);
  b.add_gauge("g", "1", "", 0.25, {}, 2);
  EXPECT_EQ(b.point_count(), 3u);
  std::string wire;
  common::otlp::encode_metrics(req, &wire);
  otlp::MetricsRequest got;
  ASSERT_TRUE(common::otlp::decode_metrics(wire, &got).ok());
  const auto& ms = got.resource_metrics[0].scope_metrics[0].metrics;
  ASSERT_EQ(ms.size(), 2u);
  EXPECT_EQ(ms[0].number_points.size(), 2u);
  EXPECT_EQ(ms[0].temporality, otlp::AggregationTemporality::kDelta);
  EXPECT_EQ(str_attr(ms[0].number_points[0].attributes, "signal"), "traces");
}

}  // namespace
}  // namespace pyrometer::agent
