// Canonical JSON dump of OTLP requests (see otlp_json_dump.h).
#include "common/otlp_json_dump.h"

#include "common/debug_json_writer.h"

namespace pyrometer::common::otlp {

namespace {

using W = DebugJsonWriter;

void any_value(W& w, const AnyValue& v);

void key_values(W& w, std::string_view name, const std::vector<KeyValue>& kvs) {
  w.key(name);
  w.begin_array();
  for (const KeyValue& kv : kvs) {
    w.begin_object();
    w.field_string("key", kv.key);
    w.key("value");
    any_value(w, kv.value);
    w.end_object();
  }
  w.end_array();
}

void any_value(W& w, const AnyValue& v) {
  w.begin_object();
  switch (v.type) {
    case AnyValue::Type::kEmpty:
      break;
    case AnyValue::Type::kString:
      w.field_string("string_value", v.string_value);
      break;
    case AnyValue::Type::kBool:
      w.field_bool("bool_value", v.bool_value);
      break;
    case AnyValue::Type::kInt:
      w.field_int("int_value", v.int_value);
      break;
    case AnyValue::Type::kDouble:
      w.field_double("double_value", v.double_value);
      break;
    case AnyValue::Type::kArray:
      w.key("array_value");
      w.begin_array();
      for (const AnyValue& e : v.array_value) any_value(w, e);
      w.end_array();
      break;
    case AnyValue::Type::kKvList:
      key_values(w, "kvlist_value", v.kvlist_value);
      break;
    case AnyValue::Type::kBytes:
      w.field_hex("bytes_value", v.string_value);
      break;
  }
  w.end_object();
}

void resource(W& w, const Resource& r) {
  w.key("resource");
  w.begin_object();
  key_values(w, "attributes", r.attributes);
  w.field_uint("dropped_attributes_count", r.dropped_attributes_count);
  w.end_object();
}

void scope(W& w, const InstrumentationScope& s) {
  w.key("scope");
  w.begin_object();
  w.field_string("name", s.name);
  w.field_string("version", s.version);
  key_values(w, "attributes", s.attributes);
  w.field_uint("dropped_attributes_count", s.dropped_attributes_count);
  w.end_object();
}

void span(W& w, const Span& s) {
  w.begin_object();
  w.field_hex("trace_id", s.trace_id);
  w.field_hex("span_id", s.span_id);
  w.field_string("trace_state", s.trace_state);
  w.field_hex("parent_span_id", s.parent_span_id);
  w.field_uint("flags", s.flags);
  w.field_string("name", s.name);
  w.field_int("kind", static_cast<int>(s.kind));
  w.field_uint("start_time_unix_nano", s.start_time_unix_nano);
  w.field_uint("end_time_unix_nano", s.end_time_unix_nano);
  key_values(w, "attributes", s.attributes);
  w.field_uint("dropped_attributes_count", s.dropped_attributes_count);
  w.key("events");
  w.begin_array();
  for (const SpanEvent& e : s.events) {
    w.begin_object();
    w.field_uint("time_unix_nano", e.time_unix_nano);
    w.field_string("name", e.name);
    key_values(w, "attributes", e.attributes);
    w.field_uint("dropped_attributes_count", e.dropped_attributes_count);
    w.end_object();
  }
  w.end_array();
  w.field_uint("dropped_events_count", s.dropped_events_count);
  w.key("links");
  w.begin_array();
  for (const SpanLink& l : s.links) {
    w.begin_object();
    w.field_hex("trace_id", l.trace_id);
    w.field_hex("span_id", l.span_id);
    w.field_string("trace_state", l.trace_state);
    key_values(w, "attributes", l.attributes);
    w.field_uint("dropped_attributes_count", l.dropped_attributes_count);
    w.field_uint("flags", l.flags);
    w.end_object();
  }
  w.end_array();
  w.field_uint("dropped_links_count", s.dropped_links_count);
  w.key("status");
  w.begin_object();
  w.field_string("message", s.status_message);
  w.field_int("code", static_cast<int>(s.status_code));
  w.end_object();
  w.end_object();
}

void exemplars(W& w, const std::vector<Exemplar>& es) {
  w.key("exemplars");
  w.begin_array();
  for (const Exemplar& e : es) {
    w.begin_object();
    key_values(w, "filtered_attributes", e.filtered_attributes);
    w.field_uint("time_unix_nano", e.time_unix_nano);
    if (e.is_int) {
      w.field_int("as_int", e.as_int);
    } else {
      w.field_double("as_double", e.as_double);
    }
    w.field_hex("span_id", e.span_id);
    w.field_hex("trace_id", e.trace_id);
    w.end_object();
  }
  w.end_array();
}

void number_point(W& w, const NumberDataPoint& d) {
  w.begin_object();
  key_values(w, "attributes", d.attributes);
  w.field_uint("start_time_unix_nano", d.start_time_unix_nano);
  w.field_uint("time_unix_nano", d.time_unix_nano);
  if (d.is_int) {
    w.field_int("as_int", d.as_int);
  } else {
    w.field_double("as_double", d.as_double);
  }
  exemplars(w, d.exemplars);
  w.field_uint("flags", d.flags);
  w.end_object();
}

void optional_double(W& w, std::string_view name, bool has, double v) {
  w.key(name);
  if (has) {
    w.value_double(v);
  } else {
    w.value_string("unset");
  }
}

void histogram_point(W& w, const HistogramDataPoint& d) {
  w.begin_object();
  key_values(w, "attributes", d.attributes);
  w.field_uint("start_time_unix_nano", d.start_time_unix_nano);
  w.field_uint("time_unix_nano", d.time_unix_nano);
  w.field_uint("count", d.count);
  optional_double(w, "sum", d.has_sum, d.sum);
  w.key("bucket_counts");
  w.begin_array();
  for (uint64_t c : d.bucket_counts) w.value_uint(c);
  w.end_array();
  w.key("explicit_bounds");
  w.begin_array();
  for (double b : d.explicit_bounds) w.value_double(b);
  w.end_array();
  exemplars(w, d.exemplars);
  w.field_uint("flags", d.flags);
  optional_double(w, "min", d.has_min, d.min);
  optional_double(w, "max", d.has_max, d.max);
  w.end_object();
}

void buckets(W& w, std::string_view name, const ExponentialBuckets& b) {
  w.key(name);
  w.begin_object();
  w.field_int("offset", b.offset);
  w.key("bucket_counts");
  w.begin_array();
  for (uint64_t c : b.bucket_counts) w.value_uint(c);
  w.end_array();
  w.end_object();
}

void exp_point(W& w, const ExponentialHistogramDataPoint& d) {
  w.begin_object();
  key_values(w, "attributes", d.attributes);
  w.field_uint("start_time_unix_nano", d.start_time_unix_nano);
  w.field_uint("time_unix_nano", d.time_unix_nano);
  w.field_uint("count", d.count);
  optional_double(w, "sum", d.has_sum, d.sum);
  w.field_int("scale", d.scale);
  w.field_uint("zero_count", d.zero_count);
  buckets(w, "positive", d.positive);
  buckets(w, "negative", d.negative);
  w.field_uint("flags", d.flags);
  exemplars(w, d.exemplars);
  optional_double(w, "min", d.has_min, d.min);
  optional_double(w, "max", d.has_max, d.max);
  w.field_double("zero_threshold", d.zero_threshold);
  w.end_object();
}

template <typename Point, typename Fn>
void points(W& w, const std::vector<Point>& ps, Fn&& one) {
  w.key("data_points");
  w.begin_array();
  for (const Point& p : ps) one(w, p);
  w.end_array();
}

void metric(W& w, const Metric& m) {
  w.begin_object();
  w.field_string("name", m.name);
  w.field_string("description", m.description);
  w.field_string("unit", m.unit);
  const int temporality = static_cast<int>(m.temporality);
  switch (m.type) {
    case Metric::Type::kEmpty:
      break;
    case Metric::Type::kGauge:
      w.key("gauge");
      w.begin_object();
      points(w, m.number_points, number_point);
      w.end_object();
      break;
    case Metric::Type::kSum:
      w.key("sum");
      w.begin_object();
      points(w, m.number_points, number_point);
      w.field_int("aggregation_temporality", temporality);
      w.field_bool("is_monotonic", m.is_monotonic);
      w.end_object();
      break;
    case Metric::Type::kHistogram:
      w.key("histogram");
      w.begin_object();
      points(w, m.histogram_points, histogram_point);
      w.field_int("aggregation_temporality", temporality);
      w.end_object();
      break;
    case Metric::Type::kExponentialHistogram:
      w.key("exponential_histogram");
      w.begin_object();
      points(w, m.exp_histogram_points, exp_point);
      w.field_int("aggregation_temporality", temporality);
      w.end_object();
      break;
  }
  key_values(w, "metadata", m.metadata);
  w.end_object();
}

void log_record(W& w, const LogRecord& l) {
  w.begin_object();
  w.field_uint("time_unix_nano", l.time_unix_nano);
  w.field_uint("observed_time_unix_nano", l.observed_time_unix_nano);
  w.field_int("severity_number", l.severity_number);
  w.field_string("severity_text", l.severity_text);
  w.key("body");
  any_value(w, l.body);
  key_values(w, "attributes", l.attributes);
  w.field_uint("dropped_attributes_count", l.dropped_attributes_count);
  w.field_uint("flags", l.flags);
  w.field_hex("trace_id", l.trace_id);
  w.field_hex("span_id", l.span_id);
  w.field_string("event_name", l.event_name);
  w.end_object();
}

// The three requests share resource -> scope -> items; `items` names the
// scope-level list ("spans", "metrics", "log_records").
template <typename Req, typename RFn>
std::string dump_request(const Req& resources, std::string_view resource_list, RFn&& each) {
  std::string out;
  W w(&out);
  w.begin_object();
  w.key(resource_list);
  w.begin_array();
  for (const auto& r : resources) each(w, r);
  w.end_array();
  w.end_object();
  return out;
}

template <typename ScopeT, typename Item, typename Fn>
void scope_block(W& w, const ScopeT& s, std::string_view items_name, const std::vector<Item>& items,
                 Fn&& one) {
  w.begin_object();
  scope(w, s.scope);
  w.key(items_name);
  w.begin_array();
  for (const Item& it : items) one(w, it);
  w.end_array();
  w.field_string("schema_url", s.schema_url);
  w.end_object();
}

}  // namespace

std::string dump_json(const TracesRequest& req) {
  return dump_request(req.resource_spans, "resource_spans", [](W& w, const ResourceSpans& rs) {
    w.begin_object();
    resource(w, rs.resource);
    w.key("scope_spans");
    w.begin_array();
    for (const ScopeSpans& ss : rs.scope_spans) scope_block(w, ss, "spans", ss.spans, span);
    w.end_array();
    w.field_string("schema_url", rs.schema_url);
    w.end_object();
  });
}

std::string dump_json(const MetricsRequest& req) {
  return dump_request(req.resource_metrics, "resource_metrics",
                      [](W& w, const ResourceMetrics& rm) {
                        w.begin_object();
                        resource(w, rm.resource);
                        w.key("scope_metrics");
                        w.begin_array();
                        for (const ScopeMetrics& sm : rm.scope_metrics) {
                          scope_block(w, sm, "metrics", sm.metrics, metric);
                        }
                        w.end_array();
                        w.field_string("schema_url", rm.schema_url);
                        w.end_object();
                      });
}

std::string dump_json(const LogsRequest& req) {
  return dump_request(req.resource_logs, "resource_logs", [](W& w, const ResourceLogs& rl) {
    w.begin_object();
    resource(w, rl.resource);
    w.key("scope_logs");
    w.begin_array();
    for (const ScopeLogs& sl : rl.scope_logs) {
      scope_block(w, sl, "log_records", sl.log_records, log_record);
    }
    w.end_array();
    w.field_string("schema_url", rl.schema_url);
    w.end_object();
  });
}

}  // namespace pyrometer::common::otlp
