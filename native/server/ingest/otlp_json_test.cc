// OTLP JSON decoder tests: every span/log/metric field, hex ids, int64 as
// strings, enum names, snake_case names, unknown fields, malformed input and
// the depth limit.
#include "server/ingest/otlp_json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "common/otlp_codec.h"

namespace pyrometer::server::ingest {
namespace {

namespace otlp = common::otlp;

const char kTrace[] = R"({
  "resourceSpans": [{
    "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "checkout"}}],
                 "droppedAttributesCount": 1},
    "schemaUrl": "https://opentelemetry.io/schemas/1.21.0",
    "scopeSpans": [{
      "scope": {"name": "my.lib", "version": "1.2", "attributes": [],
                "droppedAttributesCount": 0},
      "schemaUrl": "s",
      "spans": [{
        "traceId": "5B8EFFF798038103D269B633813FC60C",
        "spanId": "eee19b7ec3c1b174",
        "parentSpanId": "eee19b7ec3c1b173",
        "traceState": "k=v",
        "flags": 257,
        "name": "GET /users/{id}",
        "kind": 2,
        "startTimeUnixNano": "1544712660000000000",
        "endTimeUnixNano": 1544712661000000000,
        "attributes": [
          {"key": "http.request.method", "value": {"stringValue": "GET"}},
          {"key": "http.response.status_code", "value": {"intValue": "200"}},
          {"key": "ok", "value": {"boolValue": true}},
          {"key": "ratio", "value": {"doubleValue": 0.5}},
          {"key": "nan", "value": {"doubleValue": "NaN"}},
          {"key": "raw", "value": {"bytesValue": "aGk="}},
          {"key": "list", "value": {"arrayValue": {"values": [{"intValue": 1}, {"stringValue": "x"}]}}},
          {"key": "map", "value": {"kvlistValue": {"values": [{"key": "a", "value": {"intValue": "-7"}}]}}}
        ],
        "droppedAttributesCount": 2,
        "events": [{"timeUnixNano": "1544712660500000000", "name": "exception",
                    "attributes": [{"key": "exception.type", "value": {"stringValue": "ValueError"}}],
                    "droppedAttributesCount": 3}],
        "droppedEventsCount": 4,
        "links": [{"traceId": "0102030405060708090a0b0c0d0e0f10", "spanId": "0102030405060708",
                   "traceState": "a=b", "attributes": [], "droppedAttributesCount": 5, "flags": 1}],
        "droppedLinksCount": 6,
        "status": {"code": 2, "message": "boom"},
        "someFutureField": {"nested": [1, 2, 3]}
      }]
    }]
  }]
})";

TEST(OtlpJson, DecodesEveryTraceField) {
  otlp::TracesRequest req;
  ASSERT_TRUE(decode_traces_json(kTrace, &req).ok());
  ASSERT_EQ(req.resource_spans.size(), 1u);
  const auto& rs = req.resource_spans[0];
  EXPECT_EQ(rs.schema_url, "https://opentelemetry.io/schemas/1.21.0");
  EXPECT_EQ(rs.resource.dropped_attributes_count, 1u);
  ASSERT_EQ(rs.resource.attributes.size(), 1u);
  EXPECT_EQ(rs.resource.attributes[0].value.string_value, "checkout");
  const auto& ss = rs.scope_spans[0];
  EXPECT_EQ(ss.scope.name, "my.lib");
  EXPECT_EQ(ss.scope.version, "1.2");
  EXPECT_EQ(ss.schema_url, "s");
  const otlp::Span& s = ss.spans[0];
  EXPECT_EQ(s.trace_id,
            std::string("\x5b\x8e\xff\xf7\x98\x03\x81\x03\xd2\x69\xb6\x33\x81\x3f\xc6\x0c", 16));
  EXPECT_EQ(s.span_id, std::string("\xee\xe1\x9b\x7e\xc3\xc1\xb1\x74", 8));
  EXPECT_EQ(s.parent_span_id, std::string("\xee\xe1\x9b\x7e\xc3\xc1\xb1\x73", 8));
  EXPECT_EQ(s.trace_state, "k=v");
  EXPECT_EQ(s.flags, 257u);
  EXPECT_EQ(s.name, "GET /users/{id}");
  EXPECT_EQ(s.kind, otlp::SpanKind::kServer);
  EXPECT_EQ(s.start_time_unix_nano, 1544712660000000000ULL);
  EXPECT_EQ(s.end_time_unix_nano, 1544712661000000000ULL);
  ASSERT_EQ(s.attributes.size(), 8u);
  EXPECT_EQ(s.attributes[1].value.type, otlp::AnyValue::Type::kInt);
  EXPECT_EQ(s.attributes[1].value.int_value, 200);
  EXPECT_TRUE(s.attributes[2].value.bool_value);
  EXPECT_DOUBLE_EQ(s.attributes[3].value.double_value, 0.5);
  EXPECT_TRUE(std::isnan(s.attributes[4].value.double_value));
  EXPECT_EQ(s.attributes[5].value.type, otlp::AnyValue::Type::kBytes);
  EXPECT_EQ(s.attributes[5].value.string_value, "hi");
  ASSERT_EQ(s.attributes[6].value.array_value.size(), 2u);
  EXPECT_EQ(s.attributes[6].value.array_value[1].string_value, "x");
  ASSERT_EQ(s.attributes[7].value.kvlist_value.size(), 1u);
  EXPECT_EQ(s.attributes[7].value.kvlist_value[0].value.int_value, -7);
  EXPECT_EQ(s.dropped_attributes_count, 2u);
  ASSERT_EQ(s.events.size(), 1u);
  EXPECT_EQ(s.events[0].time_unix_nano, 1544712660500000000ULL);
  EXPECT_EQ(s.events[0].name, "exception");
  EXPECT_EQ(s.events[0].dropped_attributes_count, 3u);
  EXPECT_EQ(s.dropped_events_count, 4u);
  ASSERT_EQ(s.links.size(), 1u);
  EXPECT_EQ(s.links[0].span_id, std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  EXPECT_EQ(s.links[0].trace_state, "a=b");
  EXPECT_EQ(s.links[0].dropped_attributes_count, 5u);
  EXPECT_EQ(s.links[0].flags, 1u);
  EXPECT_EQ(s.dropped_links_count, 6u);
  EXPECT_EQ(s.status_code, otlp::StatusCode::kError);
  EXPECT_EQ(s.status_message, "boom");
}

TEST(OtlpJson, ReencodesToProtobufThatDecodesTheSame) {
  otlp::TracesRequest req;
  ASSERT_TRUE(decode_traces_json(kTrace, &req).ok());
  std::string pb;
  otlp::encode_traces(req, &pb);
  otlp::TracesRequest back;
  ASSERT_TRUE(otlp::decode_traces(pb, &back).ok());
  const auto& a = req.resource_spans[0].scope_spans[0].spans[0];
  const auto& b = back.resource_spans[0].scope_spans[0].spans[0];
  EXPECT_EQ(a.trace_id, b.trace_id);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.start_time_unix_nano, b.start_time_unix_nano);
  EXPECT_EQ(a.attributes.size(), b.attributes.size());
  EXPECT_EQ(b.status_message, "boom");
}

TEST(OtlpJson, AcceptsEnumNamesSnakeCaseAndNulls) {
  const char json[] = R"({"resource_spans": [{"scope_spans": [{"spans": [{
      "trace_id": "0102030405060708090a0b0c0d0e0f10", "span_id": "0102030405060708",
      "kind": "SPAN_KIND_CLIENT", "status": {"code": "STATUS_CODE_OK"},
      "parentSpanId": "", "name": null, "start_time_unix_nano": 5}]}]}]})";
  otlp::TracesRequest req;
  common::Status st = decode_traces_json(json, &req);
  ASSERT_TRUE(st.ok()) << st.message();
  const auto& s = req.resource_spans[0].scope_spans[0].spans[0];
  EXPECT_EQ(s.kind, otlp::SpanKind::kClient);
  EXPECT_EQ(s.status_code, otlp::StatusCode::kOk);
  EXPECT_TRUE(s.parent_span_id.empty());
  EXPECT_TRUE(s.name.empty());
  EXPECT_EQ(s.start_time_unix_nano, 5u);
}

TEST(OtlpJson, AcceptsBase64IdsFromOldExporters) {
  // base64 of 01..10 and 01..08.
  const char json[] = R"({"resourceSpans": [{"scopeSpans": [{"spans": [{
      "traceId": "AQIDBAUGBwgJCgsMDQ4PEA==", "spanId": "AQIDBAUGBwg="}]}]}]})";
  otlp::TracesRequest req;
  ASSERT_TRUE(decode_traces_json(json, &req).ok());
  EXPECT_EQ(req.resource_spans[0].scope_spans[0].spans[0].span_id,
            std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
}

TEST(OtlpJson, EmptyObjectIsAnEmptyRequest) {
  otlp::TracesRequest req;
  ASSERT_TRUE(decode_traces_json("{}", &req).ok());
  EXPECT_TRUE(req.resource_spans.empty());
}

void expect_invalid(const std::string& json, const std::string& fragment) {
  otlp::TracesRequest req;
  common::Status st = decode_traces_json(json, &req);
  EXPECT_EQ(st.code(), common::Status::Code::kInvalidArgument) << json;
  EXPECT_NE(st.message().find(fragment), std::string::npos) << st.message();
}

TEST(OtlpJson, MalformedInputIsInvalidArgumentWithFieldPath) {
  expect_invalid("{\"resourceSpans\": [", "invalid OTLP JSON");
  expect_invalid("[]", "expected a JSON object");
  expect_invalid("not json", "invalid OTLP JSON");
  expect_invalid("{} trailing", "root must not be followed by other values");
  expect_invalid(R"({"resourceSpans": {}})", "resourceSpans: expected an array");
  expect_invalid(R"({"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "xyz"}]}]}]})",
                 "resourceSpans[0].scopeSpans[0].spans[0].traceId: expected 32 hex digits");
  expect_invalid(R"({"resourceSpans": [{"scopeSpans": [{"spans": [{"spanId": "0102"}]}]}]})",
                 "spanId");
  expect_invalid(
      R"({"resourceSpans": [{"scopeSpans": [{"spans": [{"startTimeUnixNano": "12x"}]}]}]})",
      "startTimeUnixNano: expected an integer");
  expect_invalid(R"({"resourceSpans": [{"scopeSpans": [{"spans": [{"startTimeUnixNano": -1}]}]}]})",
                 "startTimeUnixNano");
  expect_invalid(
      R"({"resourceSpans": [{"scopeSpans": [{"spans": [{"kind": "SPAN_KIND_BOGUS"}]}]}]})",
      "unknown enum value");
  expect_invalid(R"({"resourceSpans": [{"scopeSpans": [{"spans": [{"kind": 9}]}]}]})",
                 "span kind out of range");
  expect_invalid(R"({"resourceSpans": [{"scopeSpans": [{"spans": [{"name": 5}]}]}]})",
                 "name: expected a string");
  expect_invalid(
      R"({"resourceSpans": [{"resource": {"attributes": [{"key": "k", "value": {"intValue": "9223372036854775808"}}]}}]})",
      "intValue");
}

TEST(OtlpJson, DepthLimitRejectsDeepNesting) {
  std::string deep =
      R"({"resourceSpans": [{"scopeSpans": [{"spans": [{"attributes": [{"key": "k", "value": )";
  for (int i = 0; i < 100; ++i) deep += R"({"arrayValue": {"values": [)";
  deep += "{}";
  for (int i = 0; i < 100; ++i) deep += "]}}";
  deep += "}]}]}]}]}";
  expect_invalid(deep, "nesting deeper than");

  // Brackets inside strings do not count.
  std::string shallow = R"({"resourceSpans": [{"scopeSpans": [{"spans": [{"name": ")" +
                        std::string(500, '[') + R"("}]}]}]})";
  otlp::TracesRequest req;
  EXPECT_TRUE(decode_traces_json(shallow, &req).ok());
}

TEST(OtlpJson, DecodesLogs) {
  const char json[] = R"({"resourceLogs": [{"resource": {"attributes": [
      {"key": "service.name", "value": {"stringValue": "api"}}]},
    "scopeLogs": [{"scope": {"name": "pyrometer"}, "logRecords": [{
      "timeUnixNano": "1700000000000000001", "observedTimeUnixNano": "1700000000000000002",
      "severityNumber": "SEVERITY_NUMBER_WARN", "severityText": "WARNING",
      "body": {"stringValue": "disk almost full"},
      "attributes": [{"key": "path", "value": {"stringValue": "/var"}}],
      "droppedAttributesCount": 1, "flags": 1,
      "traceId": "0102030405060708090a0b0c0d0e0f10", "spanId": "0102030405060708",
      "eventName": "pyrometer.insight"}]}]}]})";
  otlp::LogsRequest req;
  common::Status st = decode_logs_json(json, &req);
  ASSERT_TRUE(st.ok()) << st.message();
  const auto& r = req.resource_logs[0].scope_logs[0].log_records[0];
  EXPECT_EQ(r.time_unix_nano, 1700000000000000001ULL);
  EXPECT_EQ(r.observed_time_unix_nano, 1700000000000000002ULL);
  EXPECT_EQ(r.severity_number, 13);
  EXPECT_EQ(r.severity_text, "WARNING");
  EXPECT_EQ(r.body.string_value, "disk almost full");
  EXPECT_EQ(r.attributes.size(), 1u);
  EXPECT_EQ(r.dropped_attributes_count, 1u);
  EXPECT_EQ(r.flags, 1u);
  EXPECT_EQ(r.trace_id.size(), 16u);
  EXPECT_EQ(r.span_id.size(), 8u);
  EXPECT_EQ(r.event_name, "pyrometer.insight");
  EXPECT_EQ(req.resource_logs[0].scope_logs[0].scope.name, "pyrometer");
}

TEST(OtlpJson, DecodesEveryMetricType) {
  const char json[] = R"({"resourceMetrics": [{"scopeMetrics": [{"metrics": [
    {"name": "g", "description": "d", "unit": "1",
     "gauge": {"dataPoints": [{"asDouble": 1.5, "timeUnixNano": "10",
       "exemplars": [{"asInt": "3", "timeUnixNano": "9", "spanId": "0102030405060708",
                      "traceId": "0102030405060708090a0b0c0d0e0f10",
                      "filteredAttributes": [{"key": "a", "value": {"stringValue": "b"}}]}]}]}},
    {"name": "s", "sum": {"aggregationTemporality": "AGGREGATION_TEMPORALITY_CUMULATIVE",
     "isMonotonic": true, "dataPoints": [{"asInt": "42", "startTimeUnixNano": "1",
     "timeUnixNano": "2", "flags": 0, "attributes": []}]}},
    {"name": "h", "histogram": {"aggregationTemporality": 1, "dataPoints": [{
      "count": "6", "sum": 12.5, "bucketCounts": ["1", 2, "3"], "explicitBounds": [1, 5],
      "min": 0.1, "max": 9}]}},
    {"name": "e", "exponentialHistogram": {"aggregationTemporality": 2, "dataPoints": [{
      "count": "5", "sum": 3, "scale": -2, "zeroCount": "1", "zeroThreshold": 0.001,
      "positive": {"offset": -3, "bucketCounts": ["2", "2"]},
      "negative": {"offset": 1, "bucketCounts": []}, "min": 0, "max": 2}]}},
    {"name": "summary_is_ignored", "summary": {"dataPoints": [{}]}}
  ]}]}]})";
  otlp::MetricsRequest req;
  common::Status st = decode_metrics_json(json, &req);
  ASSERT_TRUE(st.ok()) << st.message();
  const auto& ms = req.resource_metrics[0].scope_metrics[0].metrics;
  ASSERT_EQ(ms.size(), 5u);
  EXPECT_EQ(ms[0].type, otlp::Metric::Type::kGauge);
  EXPECT_EQ(ms[0].description, "d");
  EXPECT_EQ(ms[0].unit, "1");
  EXPECT_DOUBLE_EQ(ms[0].number_points[0].as_double, 1.5);
  ASSERT_EQ(ms[0].number_points[0].exemplars.size(), 1u);
  EXPECT_TRUE(ms[0].number_points[0].exemplars[0].is_int);
  EXPECT_EQ(ms[0].number_points[0].exemplars[0].as_int, 3);
  EXPECT_EQ(ms[0].number_points[0].exemplars[0].trace_id.size(), 16u);
  EXPECT_EQ(ms[1].type, otlp::Metric::Type::kSum);
  EXPECT_EQ(ms[1].temporality, otlp::AggregationTemporality::kCumulative);
  EXPECT_TRUE(ms[1].is_monotonic);
  EXPECT_TRUE(ms[1].number_points[0].is_int);
  EXPECT_EQ(ms[1].number_points[0].as_int, 42);
  EXPECT_EQ(ms[2].type, otlp::Metric::Type::kHistogram);
  EXPECT_EQ(ms[2].temporality, otlp::AggregationTemporality::kDelta);
  const auto& h = ms[2].histogram_points[0];
  EXPECT_EQ(h.count, 6u);
  EXPECT_TRUE(h.has_sum);
  EXPECT_EQ(h.bucket_counts, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(h.explicit_bounds, (std::vector<double>{1, 5}));
  EXPECT_TRUE(h.has_min && h.has_max);
  EXPECT_EQ(ms[3].type, otlp::Metric::Type::kExponentialHistogram);
  const auto& e = ms[3].exp_histogram_points[0];
  EXPECT_EQ(e.scale, -2);
  EXPECT_EQ(e.zero_count, 1u);
  EXPECT_DOUBLE_EQ(e.zero_threshold, 0.001);
  EXPECT_EQ(e.positive.offset, -3);
  EXPECT_EQ(e.positive.bucket_counts, (std::vector<uint64_t>{2, 2}));
  EXPECT_EQ(e.negative.offset, 1);
  EXPECT_EQ(ms[4].type, otlp::Metric::Type::kEmpty);
}

}  // namespace
}  // namespace pyrometer::server::ingest
