// In-memory model of the OTLP messages Pyrometer reads and writes (traces,
// metrics, logs): plain structs shared by the agent's encoder and the server's decoders.
//
// Strings and bytes are std::string_view. A decoded message points into the
// buffer it was decoded from (zero copy) or into its Arena (for JSON, whose
// strings need unescaping and whose ids need hex decoding). The caller must
// keep that buffer alive while the message is used; messages built by the
// agent point into the agent's own span storage.
//
// Field numbers and semantics follow opentelemetry-proto v1 (common, resource,
// trace, metrics, logs); docs/format/otlp-subset.md lists exactly what is kept.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace pyrometer::common::otlp {

// Owns strings that cannot point into the input buffer. std::deque keeps
// element addresses stable as it grows, so views stay valid.
class Arena {
 public:
  std::string_view store(std::string s) {
    strings_.push_back(std::move(s));
    return strings_.back();
  }

 private:
  std::deque<std::string> strings_;
};

struct KeyValue;

// AnyValue: exactly one of the members is meaningful, chosen by `type`.
struct AnyValue {
  enum class Type : uint8_t { kEmpty, kString, kBool, kInt, kDouble, kArray, kKvList, kBytes };
  Type type = Type::kEmpty;
  bool bool_value = false;
  int64_t int_value = 0;
  double double_value = 0;
  std::string_view string_value;  // kString and kBytes
  std::vector<AnyValue> array_value;
  std::vector<KeyValue> kvlist_value;

  // Defined below KeyValue: their bodies need the complete type (clang with
  // libstdc++'s constexpr std::vector rejects them inside the class).
  static AnyValue of_string(std::string_view v);
  static AnyValue of_bool(bool v);
  static AnyValue of_int(int64_t v);
  static AnyValue of_double(double v);
};

struct KeyValue {
  std::string_view key;
  AnyValue value;
};

inline AnyValue AnyValue::of_string(std::string_view v) {
  AnyValue a;
  a.type = Type::kString;
  a.string_value = v;
  return a;
}
inline AnyValue AnyValue::of_bool(bool v) {
  AnyValue a;
  a.type = Type::kBool;
  a.bool_value = v;
  return a;
}
inline AnyValue AnyValue::of_int(int64_t v) {
  AnyValue a;
  a.type = Type::kInt;
  a.int_value = v;
  return a;
}
inline AnyValue AnyValue::of_double(double v) {
  AnyValue a;
  a.type = Type::kDouble;
  a.double_value = v;
  return a;
}

struct Resource {
  std::vector<KeyValue> attributes;
  uint32_t dropped_attributes_count = 0;
};

struct InstrumentationScope {
  std::string_view name;
  std::string_view version;
  std::vector<KeyValue> attributes;
  uint32_t dropped_attributes_count = 0;
};

// ---- traces ----------------------------------------------------------------

enum class SpanKind : uint8_t {
  kUnspecified = 0,
  kInternal = 1,
  kServer = 2,
  kClient = 3,
  kProducer = 4,
  kConsumer = 5
};
enum class StatusCode : uint8_t { kUnset = 0, kOk = 1, kError = 2 };

struct SpanEvent {
  uint64_t time_unix_nano = 0;
  std::string_view name;
  std::vector<KeyValue> attributes;
  uint32_t dropped_attributes_count = 0;
};

struct SpanLink {
  std::string_view trace_id;  // 16 raw bytes
  std::string_view span_id;   // 8 raw bytes
  std::string_view trace_state;
  std::vector<KeyValue> attributes;
  uint32_t dropped_attributes_count = 0;
  uint32_t flags = 0;
};

struct Span {
  std::string_view trace_id;  // 16 raw bytes
  std::string_view span_id;   // 8 raw bytes
  std::string_view trace_state;
  std::string_view parent_span_id;  // empty or 8 raw bytes
  uint32_t flags = 0;
  std::string_view name;
  SpanKind kind = SpanKind::kUnspecified;
  uint64_t start_time_unix_nano = 0;
  uint64_t end_time_unix_nano = 0;
  std::vector<KeyValue> attributes;
  uint32_t dropped_attributes_count = 0;
  std::vector<SpanEvent> events;
  uint32_t dropped_events_count = 0;
  std::vector<SpanLink> links;
  uint32_t dropped_links_count = 0;
  std::string_view status_message;
  StatusCode status_code = StatusCode::kUnset;
};

struct ScopeSpans {
  InstrumentationScope scope;
  std::vector<Span> spans;
  std::string_view schema_url;
};

struct ResourceSpans {
  Resource resource;
  std::vector<ScopeSpans> scope_spans;
  std::string_view schema_url;
};

// ExportTraceServiceRequest (same wire shape as TracesData).
struct TracesRequest {
  std::vector<ResourceSpans> resource_spans;
  Arena arena;
};

// ---- metrics ---------------------------------------------------------------

enum class AggregationTemporality : uint8_t { kUnspecified = 0, kDelta = 1, kCumulative = 2 };

struct Exemplar {
  std::vector<KeyValue> filtered_attributes;
  uint64_t time_unix_nano = 0;
  bool is_int = false;
  double as_double = 0;
  int64_t as_int = 0;
  std::string_view span_id;
  std::string_view trace_id;
};

// NumberDataPoint (gauge and sum).
struct NumberDataPoint {
  std::vector<KeyValue> attributes;
  uint64_t start_time_unix_nano = 0;
  uint64_t time_unix_nano = 0;
  bool is_int = false;
  double as_double = 0;
  int64_t as_int = 0;
  std::vector<Exemplar> exemplars;
  uint32_t flags = 0;
};

struct HistogramDataPoint {
  std::vector<KeyValue> attributes;
  uint64_t start_time_unix_nano = 0;
  uint64_t time_unix_nano = 0;
  uint64_t count = 0;
  bool has_sum = false;
  double sum = 0;
  std::vector<uint64_t> bucket_counts;
  std::vector<double> explicit_bounds;
  std::vector<Exemplar> exemplars;
  uint32_t flags = 0;
  bool has_min = false;
  double min = 0;
  bool has_max = false;
  double max = 0;
};

struct ExponentialBuckets {
  int32_t offset = 0;
  std::vector<uint64_t> bucket_counts;
};

struct ExponentialHistogramDataPoint {
  std::vector<KeyValue> attributes;
  uint64_t start_time_unix_nano = 0;
  uint64_t time_unix_nano = 0;
  uint64_t count = 0;
  bool has_sum = false;
  double sum = 0;
  int32_t scale = 0;
  uint64_t zero_count = 0;
  ExponentialBuckets positive;
  ExponentialBuckets negative;
  uint32_t flags = 0;
  std::vector<Exemplar> exemplars;
  bool has_min = false;
  double min = 0;
  bool has_max = false;
  double max = 0;
  double zero_threshold = 0;
};

struct Metric {
  enum class Type : uint8_t { kEmpty, kGauge, kSum, kHistogram, kExponentialHistogram };
  std::string_view name;
  std::string_view description;
  std::string_view unit;
  Type type = Type::kEmpty;
  // kGauge and kSum
  std::vector<NumberDataPoint> number_points;
  // kSum only
  bool is_monotonic = false;
  // kSum, kHistogram, kExponentialHistogram
  AggregationTemporality temporality = AggregationTemporality::kUnspecified;
  std::vector<HistogramDataPoint> histogram_points;
  std::vector<ExponentialHistogramDataPoint> exp_histogram_points;
  std::vector<KeyValue> metadata;
};

struct ScopeMetrics {
  InstrumentationScope scope;
  std::vector<Metric> metrics;
  std::string_view schema_url;
};

struct ResourceMetrics {
  Resource resource;
  std::vector<ScopeMetrics> scope_metrics;
  std::string_view schema_url;
};

// ExportMetricsServiceRequest.
struct MetricsRequest {
  std::vector<ResourceMetrics> resource_metrics;
  Arena arena;
};

// ---- logs ------------------------------------------------------------------

struct LogRecord {
  uint64_t time_unix_nano = 0;
  uint64_t observed_time_unix_nano = 0;
  int32_t severity_number = 0;  // SeverityNumber enum, 0..24
  std::string_view severity_text;
  AnyValue body;
  std::vector<KeyValue> attributes;
  uint32_t dropped_attributes_count = 0;
  uint32_t flags = 0;
  std::string_view trace_id;
  std::string_view span_id;
  std::string_view event_name;
};

struct ScopeLogs {
  InstrumentationScope scope;
  std::vector<LogRecord> log_records;
  std::string_view schema_url;
};

struct ResourceLogs {
  Resource resource;
  std::vector<ScopeLogs> scope_logs;
  std::string_view schema_url;
};

// ExportLogsServiceRequest.
struct LogsRequest {
  std::vector<ResourceLogs> resource_logs;
  Arena arena;
};

// ExportXServiceResponse.partial_success, shared by all three signals.
struct PartialSuccess {
  int64_t rejected = 0;  // rejected_spans / rejected_data_points / rejected_log_records
  std::string error_message;
};

}  // namespace pyrometer::common::otlp
