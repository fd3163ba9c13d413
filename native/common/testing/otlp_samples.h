// Sample OTLP requests for tests, fuzz seeds, the interop tool and benchmarks:
// "rich" ones set every field the model has (each AnyValue type, nesting, exemplars).
//
// Header-only so test programs, tools and benches share it without touching the
// library. Dynamic strings live in the request's Arena; literals are static.
#pragma once

#include <cstdint>
#include <string>

#include "common/otlp_model.h"

namespace pyrometer::common::otlp::testing {

inline constexpr std::string_view kTraceId{
    "\x5b\x8e\xfb\xf7\x3a\x9d\x41\x2c\x00\x11\x22\x33\x44\x55\x66\x77", 16};
inline constexpr std::string_view kSpanId{"\x01\x02\x03\x04\x05\x06\x07\x08", 8};
inline constexpr std::string_view kParentId{"\xa1\xa2\xa3\xa4\xa5\xa6\xa7\x00", 8};

// Every AnyValue type, including empty values, nested arrays and kvlists, and bytes.
inline std::vector<KeyValue> rich_attributes() {
  std::vector<KeyValue> kvs;
  kvs.push_back({"str", AnyValue::of_string("value \"quoted\" \xc3\xa9")});
  kvs.push_back({"bool", AnyValue::of_bool(true)});
  kvs.push_back({"false", AnyValue::of_bool(false)});
  kvs.push_back({"int", AnyValue::of_int(-42)});
  kvs.push_back({"zero", AnyValue::of_int(0)});
  kvs.push_back({"double", AnyValue::of_double(3.25)});
  kvs.push_back({"empty", AnyValue{}});
  AnyValue bytes;
  bytes.type = AnyValue::Type::kBytes;
  bytes.string_value = std::string_view("\x00\xff\x10", 3);
  kvs.push_back({"bytes", bytes});
  AnyValue arr;
  arr.type = AnyValue::Type::kArray;
  arr.array_value.push_back(AnyValue::of_string("a"));
  arr.array_value.push_back(AnyValue::of_int(7));
  arr.array_value.push_back(AnyValue{});
  AnyValue inner;
  inner.type = AnyValue::Type::kArray;
  inner.array_value.push_back(AnyValue::of_double(-0.5));
  arr.array_value.push_back(inner);
  kvs.push_back({"array", arr});
  AnyValue kvl;
  kvl.type = AnyValue::Type::kKvList;
  kvl.kvlist_value.push_back({"nested", AnyValue::of_bool(true)});
  kvl.kvlist_value.push_back({"", AnyValue::of_string("empty key")});
  kvs.push_back({"kvlist", kvl});
  AnyValue empty_arr;
  empty_arr.type = AnyValue::Type::kArray;
  kvs.push_back({"empty_array", empty_arr});
  return kvs;
}

inline Resource rich_resource(std::string_view service) {
  Resource r;
  r.attributes.push_back({"service.name", AnyValue::of_string(service)});
  r.attributes.push_back({"service.version", AnyValue::of_string("1.2.3")});
  r.attributes.push_back({"process.pid", AnyValue::of_int(4242)});
  r.dropped_attributes_count = 3;
  return r;
}

inline InstrumentationScope rich_scope(std::string_view name) {
  InstrumentationScope s;
  s.name = name;
  s.version = "0.1.0";
  s.attributes.push_back({"scope.attr", AnyValue::of_string("x")});
  s.dropped_attributes_count = 1;
  return s;
}

inline void fill_rich_traces(TracesRequest* req) {
  ResourceSpans& rs = req->resource_spans.emplace_back();
  rs.resource = rich_resource("checkout");
  rs.schema_url = "https://opentelemetry.io/schemas/1.26.0";
  ScopeSpans& ss = rs.scope_spans.emplace_back();
  ss.scope = rich_scope("pyrometer.flask");
  ss.schema_url = "https://opentelemetry.io/schemas/1.25.0";
  Span& s = ss.spans.emplace_back();
  s.trace_id = kTraceId;
  s.span_id = kSpanId;
  s.trace_state = "vendor=abc,rojo=00f067aa0ba902b7";
  s.parent_span_id = kParentId;
  s.flags = 0x301;
  s.name = "GET /orders/{id}";
  s.kind = SpanKind::kServer;
  s.start_time_unix_nano = 1'700'000'000'123'456'789ULL;
  s.end_time_unix_nano = 1'700'000'000'223'456'789ULL;
  s.attributes = rich_attributes();
  s.dropped_attributes_count = 2;
  SpanEvent& e = s.events.emplace_back();
  e.time_unix_nano = 1'700'000'000'200'000'000ULL;
  e.name = "exception";
  e.attributes.push_back({"exception.type", AnyValue::of_string("ValueError")});
  e.dropped_attributes_count = 4;
  s.events.emplace_back();  // an all-default event must survive too
  s.dropped_events_count = 5;
  SpanLink& l = s.links.emplace_back();
  l.trace_id = kTraceId;
  l.span_id = kParentId;
  l.trace_state = "k=v";
  l.attributes.push_back({"link.kind", AnyValue::of_string("follows")});
  l.dropped_attributes_count = 6;
  l.flags = 0x100;
  s.links.emplace_back();
  s.dropped_links_count = 7;
  s.status_message = "boom";
  s.status_code = StatusCode::kError;
  // A second, minimal span and an empty scope and resource.
  Span& s2 = ss.spans.emplace_back();
  s2.trace_id = kTraceId;
  s2.span_id = kParentId;
  s2.name = "SELECT orders";
  s2.kind = SpanKind::kClient;
  s2.status_code = StatusCode::kOk;
  s2.attributes.push_back({"db.system", AnyValue::of_string("postgresql")});
  rs.scope_spans.emplace_back();
  req->resource_spans.emplace_back();
}

inline Exemplar rich_exemplar(bool is_int) {
  Exemplar e;
  e.filtered_attributes.push_back({"user", AnyValue::of_string("u1")});
  e.time_unix_nano = 1'700'000'000'000'000'001ULL;
  e.is_int = is_int;
  if (is_int) {
    e.as_int = -17;
  } else {
    e.as_double = 0.125;
  }
  e.span_id = kSpanId;
  e.trace_id = kTraceId;
  return e;
}

inline void fill_rich_metrics(MetricsRequest* req) {
  ResourceMetrics& rm = req->resource_metrics.emplace_back();
  rm.resource = rich_resource("checkout");
  rm.schema_url = "https://opentelemetry.io/schemas/1.26.0";
  ScopeMetrics& sm = rm.scope_metrics.emplace_back();
  sm.scope = rich_scope("pyrometer.red");
  sm.schema_url = "s";

  Metric& gauge = sm.metrics.emplace_back();
  gauge.name = "process.memory.rss";
  gauge.description = "Resident set size";
  gauge.unit = "By";
  gauge.type = Metric::Type::kGauge;
  NumberDataPoint& g1 = gauge.number_points.emplace_back();
  g1.attributes.push_back({"state", AnyValue::of_string("used")});
  g1.start_time_unix_nano = 1;
  g1.time_unix_nano = 2;
  g1.is_int = true;
  g1.as_int = -1234567890123LL;
  g1.exemplars.push_back(rich_exemplar(true));
  g1.flags = 1;
  NumberDataPoint& g2 = gauge.number_points.emplace_back();
  g2.as_double = 0.0;  // a zero double must stay a double
  gauge.metadata.push_back({"meta", AnyValue::of_string("data")});

  Metric& sum = sm.metrics.emplace_back();
  sum.name = "http.server.requests";
  sum.unit = "{request}";
  sum.type = Metric::Type::kSum;
  sum.is_monotonic = true;
  sum.temporality = AggregationTemporality::kCumulative;
  NumberDataPoint& s1 = sum.number_points.emplace_back();
  s1.time_unix_nano = 5;
  s1.as_double = 12.5;
  s1.exemplars.push_back(rich_exemplar(false));

  Metric& hist = sm.metrics.emplace_back();
  hist.name = "http.server.request.duration";
  hist.unit = "s";
  hist.type = Metric::Type::kHistogram;
  hist.temporality = AggregationTemporality::kDelta;
  HistogramDataPoint& h = hist.histogram_points.emplace_back();
  h.attributes.push_back({"http.route", AnyValue::of_string("/orders/{id}")});
  h.start_time_unix_nano = 10;
  h.time_unix_nano = 20;
  h.count = 6;
  h.has_sum = true;
  h.sum = 1.75;
  h.bucket_counts = {1, 0, 3, 2};
  h.explicit_bounds = {0.005, 0.1, 2.5};
  h.exemplars.push_back(rich_exemplar(false));
  h.flags = 0;
  h.has_min = true;
  h.min = 0.001;
  h.has_max = true;
  h.max = 9.5;
  hist.histogram_points.emplace_back();  // no sum, min, max, buckets

  Metric& exp = sm.metrics.emplace_back();
  exp.name = "pyrometer.red.duration";
  exp.unit = "s";
  exp.type = Metric::Type::kExponentialHistogram;
  exp.temporality = AggregationTemporality::kCumulative;
  ExponentialHistogramDataPoint& x = exp.exp_histogram_points.emplace_back();
  x.attributes.push_back({"endpoint", AnyValue::of_string("GET /")});
  x.start_time_unix_nano = 100;
  x.time_unix_nano = 200;
  x.count = 12;
  x.has_sum = true;
  x.sum = -3.5;
  x.scale = -3;
  x.zero_count = 2;
  x.positive.offset = -5;
  x.positive.bucket_counts = {1, 2, 0, 300};
  x.negative.offset = 7;
  x.negative.bucket_counts = {4};
  x.flags = 1;
  x.exemplars.push_back(rich_exemplar(true));
  x.has_min = true;
  x.min = -2;
  x.has_max = true;
  x.max = 1e300;
  x.zero_threshold = 1e-9;
  ExponentialHistogramDataPoint& x2 = exp.exp_histogram_points.emplace_back();
  x2.scale = 20;

  Metric& empty_gauge = sm.metrics.emplace_back();
  empty_gauge.name = "empty.gauge";
  empty_gauge.type = Metric::Type::kGauge;
  sm.metrics.emplace_back();  // no data at all
}

inline void fill_rich_logs(LogsRequest* req) {
  ResourceLogs& rl = req->resource_logs.emplace_back();
  rl.resource = rich_resource("worker");
  rl.schema_url = "https://opentelemetry.io/schemas/1.26.0";
  ScopeLogs& sl = rl.scope_logs.emplace_back();
  sl.scope = rich_scope("pyrometer.insights");
  sl.schema_url = "x";
  LogRecord& l = sl.log_records.emplace_back();
  l.time_unix_nano = 1'700'000'000'000'000'000ULL;
  l.observed_time_unix_nano = 1'700'000'000'000'000'500ULL;
  l.severity_number = 17;
  l.severity_text = "ERROR";
  l.body = AnyValue::of_string("N+1 query detected");
  l.attributes = rich_attributes();
  l.dropped_attributes_count = 9;
  l.flags = 1;
  l.trace_id = kTraceId;
  l.span_id = kSpanId;
  l.event_name = "pyrometer.insight";
  LogRecord& l2 = sl.log_records.emplace_back();
  l2.body.type = AnyValue::Type::kKvList;
  l2.body.kvlist_value.push_back({"count", AnyValue::of_int(12)});
  LogRecord& l3 = sl.log_records.emplace_back();
  l3.body = AnyValue::of_int(0);
  sl.log_records.emplace_back();
}

}  // namespace pyrometer::common::otlp::testing
