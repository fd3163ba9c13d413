// OTLP batch building: turns the agent's owned records (kept traces, log
// records, metric points) into the common OTLP model for the codec to encode.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/log_records.h"
#include "agent/span_record.h"
#include "common/otlp_model.h"

namespace pyrometer::agent {

namespace otlp = common::otlp;

// The process's resource. `instance_id` changes in every forked child so each
// worker is its own `service.instance.id`.
struct ExportResource {
  std::string service_name;
  std::vector<std::pair<std::string, std::string>> attributes;
  std::string instance_id;
  // Typed attributes set after start (a worker's process.pid, ...; see
  // shared_resource.h); they win over `attributes` with the same key.
  std::vector<Attribute> typed_attributes = {};
};

inline constexpr std::string_view kScopeName = "pyrometer";
inline constexpr std::string_view kScopeVersion = "0.1.0";

// Fills `out` with service.name, service.instance.id, telemetry.sdk.* and the
// configured attributes. Views point into `res`, which must outlive `out`.
void build_resource(const ExportResource& res, otlp::Resource* out);

// One ResourceSpans with every span of every trace. Views point into `res`,
// `traces` and out->arena; keep them alive until encoded. A span's
// exception_stack becomes, on its last "exception" event, the standard
// `exception.stacktrace` text (when the tracer did not set one) plus
// `pyrometer.exception.frames`: an array of {file, line, function, in_app}
// kvlists (docs/format/agent-metrics.md, "Spans").
void build_traces_request(const ExportResource& res,
                          const std::vector<std::vector<SpanRecord>>& traces,
                          otlp::TracesRequest* out);

// One ResourceLogs with all records. Same lifetime rules.
void build_logs_request(const ExportResource& res, const std::vector<LogRecordData>& logs,
                        otlp::LogsRequest* out);

// An attribute as an OTLP AnyValue; strings are views into `v`.
otlp::AnyValue to_any_value(const AttrValue& v);

// Rough heap footprint, for the queues' byte bounds.
size_t approx_bytes(const std::vector<Attribute>& attrs);
size_t approx_bytes(const SpanRecord& span);

// Builds one MetricsRequest (one resource, one scope). Metric names, units,
// descriptions and attribute strings are copied into out->arena, so callers
// may pass temporaries. Not thread-safe; one builder per export.
class MetricsBuilder {
 public:
  struct Attr {
    std::string_view key;
    otlp::AnyValue value;  // string values are copied
  };
  using Attrs = std::vector<Attr>;

  MetricsBuilder(const ExportResource& res, otlp::MetricsRequest* out);

  // Finds the metric by name or appends it with this type/unit/temporality.
  otlp::Metric* metric(
      std::string_view name, std::string_view unit, std::string_view description,
      otlp::Metric::Type type,
      otlp::AggregationTemporality temporality = otlp::AggregationTemporality::kUnspecified,
      bool monotonic = false);

  void add_gauge(std::string_view name, std::string_view unit, std::string_view description,
                 double value, const Attrs& attrs, uint64_t time_ns);
  void add_gauge_int(std::string_view name, std::string_view unit, std::string_view description,
                     int64_t value, const Attrs& attrs, uint64_t time_ns);
  // A Sum point. Delta when `delta`, else cumulative from `start_ns`.
  void add_sum(std::string_view name, std::string_view unit, std::string_view description,
               int64_t value, bool monotonic, bool delta, const Attrs& attrs, uint64_t start_ns,
               uint64_t time_ns);
  void add_sum_double(std::string_view name, std::string_view unit, std::string_view description,
                      double value, bool monotonic, bool delta, const Attrs& attrs,
                      uint64_t start_ns, uint64_t time_ns);
  // Appends a prepared exponential histogram point (delta temporality);
  // its attributes must already point into stable storage or the arena.
  otlp::ExponentialHistogramDataPoint* add_exp_histogram(std::string_view name,
                                                         std::string_view unit,
                                                         std::string_view description,
                                                         const Attrs& attrs);

  std::string_view store(std::string_view s);
  size_t point_count() const { return points_; }

 private:
  std::vector<otlp::KeyValue> convert(const Attrs& attrs);
  otlp::MetricsRequest* out_;
  otlp::ScopeMetrics* scope_;
  size_t points_ = 0;
};

}  // namespace pyrometer::agent
