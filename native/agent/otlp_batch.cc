// OTLP batch building from owned agent records. Views point into the records;
// only derived text (stack traces, metric names) goes into the request's arena.
#include "agent/otlp_batch.h"

#include "agent/span.h"

namespace pyrometer::agent {
namespace {

std::string_view bytes_view(const uint8_t* p, size_t n) {
  return std::string_view(reinterpret_cast<const char*>(p), n);
}

bool all_zero(const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

otlp::AnyValue scalar_value(const AttrScalar& v) {
  return std::visit(
      [](const auto& x) -> otlp::AnyValue {
        using X = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<X, std::string>) return otlp::AnyValue::of_string(x);
        if constexpr (std::is_same_v<X, int64_t>) return otlp::AnyValue::of_int(x);
        if constexpr (std::is_same_v<X, double>) return otlp::AnyValue::of_double(x);
        if constexpr (std::is_same_v<X, bool>) return otlp::AnyValue::of_bool(x);
      },
      v);
}

// `keep_reason` (a kept local root's pending_keep_reason, or empty) goes out as
// the kKeepReasonKey attribute, replacing one the app set: what
// apply_pending_keep_reason would have stored, without growing the span's
// attribute vector on the exporter thread just to encode it.
void convert_attrs(const std::vector<Attribute>& in, std::vector<otlp::KeyValue>* out,
                   std::string_view keep_reason = {}) {
  out->reserve(out->size() + in.size() + (keep_reason.empty() ? 0 : 1));
  for (const Attribute& a : in) {
    if (!keep_reason.empty() && a.key == kKeepReasonKey) continue;
    out->push_back(otlp::KeyValue{a.key, to_any_value(a.value)});
  }
  if (!keep_reason.empty()) {
    out->push_back(otlp::KeyValue{kKeepReasonKey, otlp::AnyValue::of_string(keep_reason)});
  }
}

bool has_key(const std::vector<otlp::KeyValue>& kvs, std::string_view key) {
  for (const auto& kv : kvs) {
    if (kv.key == key) return true;
  }
  return false;
}

// Python-traceback-shaped text, so generic OTel backends show something familiar.
std::string format_stack(const std::vector<StackFrame>& frames) {
  std::string s = "Traceback (most recent call last):\n";
  for (const StackFrame& f : frames) {
    s += "  File \"" + f.file + "\", line " + std::to_string(f.line) + ", in " + f.function + "\n";
  }
  return s;
}

void attach_stack(const SpanRecord& span, otlp::Span* out, otlp::Arena* arena) {
  if (span.exception_stack.empty()) return;
  otlp::SpanEvent* ev = nullptr;
  for (auto it = out->events.rbegin(); it != out->events.rend(); ++it) {
    if (it->name == "exception") {
      ev = &*it;
      break;
    }
  }
  if (ev == nullptr) return;
  if (!has_key(ev->attributes, "exception.stacktrace")) {
    ev->attributes.push_back(otlp::KeyValue{
        "exception.stacktrace",
        otlp::AnyValue::of_string(arena->store(format_stack(span.exception_stack)))});
  }
  otlp::AnyValue frames;
  frames.type = otlp::AnyValue::Type::kArray;
  frames.array_value.reserve(span.exception_stack.size());
  for (const StackFrame& f : span.exception_stack) {
    otlp::AnyValue frame;
    frame.type = otlp::AnyValue::Type::kKvList;
    frame.kvlist_value = {
        {"file", otlp::AnyValue::of_string(f.file)},
        {"line", otlp::AnyValue::of_int(f.line)},
        {"function", otlp::AnyValue::of_string(f.function)},
        {"in_app", otlp::AnyValue::of_bool(f.in_app)},
    };
    frames.array_value.push_back(std::move(frame));
  }
  ev->attributes.push_back(otlp::KeyValue{"pyrometer.exception.frames", std::move(frames)});
}

otlp::InstrumentationScope scope() {
  otlp::InstrumentationScope s;
  s.name = kScopeName;
  s.version = kScopeVersion;
  return s;
}

}  // namespace

otlp::AnyValue to_any_value(const AttrValue& v) {
  // Visits the stored alternative itself: string views must point into `v`,
  // never into a converted temporary.
  return std::visit(
      [](const auto& x) -> otlp::AnyValue {
        using X = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<X, std::vector<AttrScalar>>) {
          otlp::AnyValue a;
          a.type = otlp::AnyValue::Type::kArray;
          a.array_value.reserve(x.size());
          for (const AttrScalar& s : x) a.array_value.push_back(scalar_value(s));
          return a;
        } else if constexpr (std::is_same_v<X, std::string>) {
          return otlp::AnyValue::of_string(x);
        } else if constexpr (std::is_same_v<X, int64_t>) {
          return otlp::AnyValue::of_int(x);
        } else if constexpr (std::is_same_v<X, double>) {
          return otlp::AnyValue::of_double(x);
        } else {
          return otlp::AnyValue::of_bool(x);
        }
      },
      v);
}

void build_resource(const ExportResource& res, otlp::Resource* out) {
  auto& a = out->attributes;
  a.push_back({"service.name", otlp::AnyValue::of_string(res.service_name)});
  if (!res.instance_id.empty()) {
    a.push_back({"service.instance.id", otlp::AnyValue::of_string(res.instance_id)});
  }
  a.push_back({"telemetry.sdk.name", otlp::AnyValue::of_string("pyrometer")});
  a.push_back({"telemetry.sdk.language", otlp::AnyValue::of_string("python")});
  a.push_back({"telemetry.sdk.version", otlp::AnyValue::of_string(kScopeVersion)});
  auto typed = [&](std::string_view k) {
    for (const Attribute& t : res.typed_attributes) {
      if (t.key == k) return true;
    }
    return false;
  };
  for (const auto& [k, v] : res.attributes) {
    if (k == "service.name" || k == "service.instance.id") continue;  // ours win
    if (typed(k)) continue;
    a.push_back({k, otlp::AnyValue::of_string(v)});
  }
  for (const Attribute& t : res.typed_attributes) {
    if (t.key == "service.name" || t.key == "service.instance.id") continue;
    a.push_back({t.key, to_any_value(t.value)});
  }
}

void build_traces_request(const ExportResource& res,
                          const std::vector<std::vector<SpanRecord>>& traces,
                          otlp::TracesRequest* out) {
  out->resource_spans.emplace_back();
  otlp::ResourceSpans& rs = out->resource_spans.back();
  build_resource(res, &rs.resource);
  rs.scope_spans.emplace_back();
  otlp::ScopeSpans& ss = rs.scope_spans.back();
  ss.scope = scope();
  size_t n = 0;
  for (const auto& t : traces) n += t.size();
  ss.spans.reserve(n);
  for (const auto& trace : traces) {
    for (const SpanRecord& s : trace) {
      ss.spans.emplace_back();
      otlp::Span& o = ss.spans.back();
      o.trace_id = bytes_view(s.trace_id, 16);
      o.span_id = bytes_view(s.span_id, 8);
      if (s.has_parent && !all_zero(s.parent_span_id, 8))
        o.parent_span_id = bytes_view(s.parent_span_id, 8);
      o.trace_state = s.trace_state;
      // W3C flags in the low byte; bits 8-9 say whether the parent is remote (OTLP 1.4).
      o.flags = s.trace_flags | 0x100u | (s.parent_is_remote ? 0x200u : 0u);
      o.name = s.name;
      o.kind = s.kind;
      o.start_time_unix_nano = s.start_unix_nano;
      o.end_time_unix_nano = s.end_unix_nano;
      convert_attrs(s.attributes, &o.attributes, s.pending_keep_reason);
      o.events.reserve(s.events.size());
      for (const EventRecord& e : s.events) {
        o.events.emplace_back();
        o.events.back().time_unix_nano = e.time_unix_nano;
        o.events.back().name = e.name;
        convert_attrs(e.attributes, &o.events.back().attributes);
      }
      attach_stack(s, &o, &out->arena);
      o.status_code = s.status_code;
      o.status_message = s.status_message;
    }
  }
}

void build_logs_request(const ExportResource& res, const std::vector<LogRecordData>& logs,
                        otlp::LogsRequest* out) {
  out->resource_logs.emplace_back();
  otlp::ResourceLogs& rl = out->resource_logs.back();
  build_resource(res, &rl.resource);
  rl.scope_logs.emplace_back();
  otlp::ScopeLogs& sl = rl.scope_logs.back();
  sl.scope = scope();
  sl.log_records.reserve(logs.size());
  for (const LogRecordData& r : logs) {
    sl.log_records.emplace_back();
    otlp::LogRecord& o = sl.log_records.back();
    o.time_unix_nano = r.time_unix_nano;
    o.observed_time_unix_nano = r.observed_time_unix_nano;
    o.severity_number = r.severity_number;
    o.severity_text = r.severity_text;
    o.body = otlp::AnyValue::of_string(r.body);
    convert_attrs(r.attributes, &o.attributes);
    if (r.has_trace) {
      o.trace_id = bytes_view(r.trace_id, 16);
      o.span_id = bytes_view(r.span_id, 8);
      o.flags = 1;
    }
    o.event_name = r.event_name;
  }
}

size_t approx_bytes(const std::vector<Attribute>& attrs) {
  size_t n = attrs.capacity() * sizeof(Attribute);
  for (const Attribute& a : attrs) {
    n += a.key.heap_bytes();
    if (const auto* s = std::get_if<std::string>(&a.value)) n += s->capacity();
    if (const auto* seq = std::get_if<std::vector<AttrScalar>>(&a.value)) {
      n += seq->capacity() * sizeof(AttrScalar);
      for (const auto& x : *seq) {
        if (const auto* s = std::get_if<std::string>(&x)) n += s->capacity();
      }
    }
  }
  return n;
}

size_t approx_bytes(const SpanRecord& s) {
  size_t n = sizeof(SpanRecord) + s.name.capacity() + s.trace_state.capacity() +
             s.status_message.capacity() + approx_bytes(s.attributes);
  for (const EventRecord& e : s.events)
    n += sizeof(EventRecord) + e.name.capacity() + approx_bytes(e.attributes);
  for (const StackFrame& f : s.exception_stack)
    n += sizeof(StackFrame) + f.file.capacity() + f.function.capacity();
  return n;
}

// ---- MetricsBuilder ----------------------------------------------------------

MetricsBuilder::MetricsBuilder(const ExportResource& res, otlp::MetricsRequest* out) : out_(out) {
  out_->resource_metrics.emplace_back();
  otlp::ResourceMetrics& rm = out_->resource_metrics.back();
  build_resource(res, &rm.resource);
  rm.scope_metrics.emplace_back();
  scope_ = &rm.scope_metrics.back();
  scope_->scope = scope();
}

std::string_view MetricsBuilder::store(std::string_view s) {
  return out_->arena.store(std::string(s));
}

std::vector<otlp::KeyValue> MetricsBuilder::convert(const Attrs& attrs) {
  std::vector<otlp::KeyValue> kvs;
  kvs.reserve(attrs.size());
  for (const Attr& a : attrs) {
    otlp::AnyValue v = a.value;
    if (v.type == otlp::AnyValue::Type::kString) v.string_value = store(v.string_value);
    kvs.push_back(otlp::KeyValue{store(a.key), std::move(v)});
  }
  return kvs;
}

otlp::Metric* MetricsBuilder::metric(std::string_view name, std::string_view unit,
                                     std::string_view description, otlp::Metric::Type type,
                                     otlp::AggregationTemporality temporality, bool monotonic) {
  for (otlp::Metric& m : scope_->metrics) {
    if (m.name == name) return &m;
  }
  scope_->metrics.emplace_back();
  otlp::Metric& m = scope_->metrics.back();
  m.name = store(name);
  m.unit = store(unit);
  m.description = store(description);
  m.type = type;
  m.temporality = temporality;
  m.is_monotonic = monotonic;
  return &m;
}

void MetricsBuilder::add_gauge(std::string_view name, std::string_view unit,
                               std::string_view description, double value, const Attrs& attrs,
                               uint64_t time_ns) {
  otlp::Metric* m = metric(name, unit, description, otlp::Metric::Type::kGauge);
  otlp::NumberDataPoint p;
  p.attributes = convert(attrs);
  p.time_unix_nano = time_ns;
  p.as_double = value;
  m->number_points.push_back(std::move(p));
  ++points_;
}

void MetricsBuilder::add_gauge_int(std::string_view name, std::string_view unit,
                                   std::string_view description, int64_t value, const Attrs& attrs,
                                   uint64_t time_ns) {
  otlp::Metric* m = metric(name, unit, description, otlp::Metric::Type::kGauge);
  otlp::NumberDataPoint p;
  p.attributes = convert(attrs);
  p.time_unix_nano = time_ns;
  p.is_int = true;
  p.as_int = value;
  m->number_points.push_back(std::move(p));
  ++points_;
}

void MetricsBuilder::add_sum(std::string_view name, std::string_view unit,
                             std::string_view description, int64_t value, bool monotonic,
                             bool delta, const Attrs& attrs, uint64_t start_ns, uint64_t time_ns) {
  otlp::Metric* m = metric(
      name, unit, description, otlp::Metric::Type::kSum,
      delta ? otlp::AggregationTemporality::kDelta : otlp::AggregationTemporality::kCumulative,
      monotonic);
  otlp::NumberDataPoint p;
  p.attributes = convert(attrs);
  p.start_time_unix_nano = start_ns;
  p.time_unix_nano = time_ns;
  p.is_int = true;
  p.as_int = value;
  m->number_points.push_back(std::move(p));
  ++points_;
}

void MetricsBuilder::add_sum_double(std::string_view name, std::string_view unit,
                                    std::string_view description, double value, bool monotonic,
                                    bool delta, const Attrs& attrs, uint64_t start_ns,
                                    uint64_t time_ns) {
  otlp::Metric* m = metric(
      name, unit, description, otlp::Metric::Type::kSum,
      delta ? otlp::AggregationTemporality::kDelta : otlp::AggregationTemporality::kCumulative,
      monotonic);
  otlp::NumberDataPoint p;
  p.attributes = convert(attrs);
  p.start_time_unix_nano = start_ns;
  p.time_unix_nano = time_ns;
  p.as_double = value;
  m->number_points.push_back(std::move(p));
  ++points_;
}

otlp::ExponentialHistogramDataPoint* MetricsBuilder::add_exp_histogram(std::string_view name,
                                                                       std::string_view unit,
                                                                       std::string_view description,
                                                                       const Attrs& attrs) {
  otlp::Metric* m = metric(name, unit, description, otlp::Metric::Type::kExponentialHistogram,
                           otlp::AggregationTemporality::kDelta);
  m->exp_histogram_points.emplace_back();
  m->exp_histogram_points.back().attributes = convert(attrs);
  ++points_;
  return &m->exp_histogram_points.back();
}

}  // namespace pyrometer::agent
