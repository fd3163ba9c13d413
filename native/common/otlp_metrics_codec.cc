// Wire codec for ExportMetricsServiceRequest (collector/metrics/v1, metrics/v1):
// gauge, sum, histogram and exponential histogram points with exemplars.
// Summary metrics are skipped (decoded with Metric::Type::kEmpty).
#include <cmath>
#include <protozero/pbf_writer.hpp>

#include "common/otlp_codec.h"
#include "common/otlp_common_codec.h"
#include "common/otlp_envelope.h"

namespace pyrometer::common::otlp {

using protozero::pbf_reader;
using protozero::pbf_writer;

namespace {

AggregationTemporality to_temporality(int32_t v) {
  return (v >= 0 && v <= 2) ? static_cast<AggregationTemporality>(v)
                            : AggregationTemporality::kUnspecified;
}

void decode_exemplar(pbf_reader r, proto::DecodePath& p, Exemplar* out) {
  while (proto::next_field(r, p)) {
    switch (r.tag()) {
      case 2:
        out->time_unix_nano = proto::read_fixed64(r, p, "time_unix_nano");
        break;
      case 3:
        out->as_double = proto::read_double(r, p, "as_double");
        out->is_int = false;
        break;
      case 4:
        out->span_id = proto::read_bytes(r, p, "span_id");
        break;
      case 5:
        out->trace_id = proto::read_bytes(r, p, "trace_id");
        break;
      case 6:
        out->as_int = proto::read_sfixed64(r, p, "as_int");
        out->is_int = true;
        break;
      case 7:
        detail::decode_attribute(r, p, "filtered_attributes", &out->filtered_attributes);
        break;
      default:
        r.skip();
    }
  }
  proto::check_id_length(out->trace_id, 16, p, "trace_id");
  proto::check_id_length(out->span_id, 8, p, "span_id");
}

void decode_number_point(pbf_reader r, proto::DecodePath& p, NumberDataPoint* out) {
  while (proto::next_field(r, p)) {
    switch (r.tag()) {
      case 2:
        out->start_time_unix_nano = proto::read_fixed64(r, p, "start_time_unix_nano");
        break;
      case 3:
        out->time_unix_nano = proto::read_fixed64(r, p, "time_unix_nano");
        break;
      case 4:
        out->as_double = proto::read_double(r, p, "as_double");
        out->is_int = false;
        break;
      case 5:
        detail::decode_repeated(r, p, "exemplars", &out->exemplars, decode_exemplar);
        break;
      case 6:
        out->as_int = proto::read_sfixed64(r, p, "as_int");
        out->is_int = true;
        break;
      case 7:
        detail::decode_attribute(r, p, "attributes", &out->attributes);
        break;
      case 8:
        out->flags = proto::read_uint32(r, p, "flags");
        break;
      default:
        r.skip();
    }
  }
}

void decode_histogram_point(pbf_reader r, proto::DecodePath& p, HistogramDataPoint* out) {
  while (proto::next_field(r, p)) {
    switch (r.tag()) {
      case 2:
        out->start_time_unix_nano = proto::read_fixed64(r, p, "start_time_unix_nano");
        break;
      case 3:
        out->time_unix_nano = proto::read_fixed64(r, p, "time_unix_nano");
        break;
      case 4:
        out->count = proto::read_fixed64(r, p, "count");
        break;
      case 5:
        out->sum = proto::read_double(r, p, "sum");
        out->has_sum = true;
        break;
      case 6:
        proto::append_fixed64s(r, p, "bucket_counts", &out->bucket_counts);
        break;
      case 7:
        proto::append_doubles(r, p, "explicit_bounds", &out->explicit_bounds);
        break;
      case 8:
        detail::decode_repeated(r, p, "exemplars", &out->exemplars, decode_exemplar);
        break;
      case 9:
        detail::decode_attribute(r, p, "attributes", &out->attributes);
        break;
      case 10:
        out->flags = proto::read_uint32(r, p, "flags");
        break;
      case 11:
        out->min = proto::read_double(r, p, "min");
        out->has_min = true;
        break;
      case 12:
        out->max = proto::read_double(r, p, "max");
        out->has_max = true;
        break;
      default:
        r.skip();
    }
  }
}

void decode_buckets(pbf_reader r, proto::DecodePath& p, ExponentialBuckets* out) {
  while (proto::next_field(r, p)) {
    switch (r.tag()) {
      case 1:
        out->offset = proto::read_sint32(r, p, "offset");
        break;
      case 2:
        proto::append_uint64s(r, p, "bucket_counts", &out->bucket_counts);
        break;
      default:
        r.skip();
    }
  }
}

void decode_exp_point(pbf_reader r, proto::DecodePath& p, ExponentialHistogramDataPoint* out) {
  while (proto::next_field(r, p)) {
    switch (r.tag()) {
      case 1:
        detail::decode_attribute(r, p, "attributes", &out->attributes);
        break;
      case 2:
        out->start_time_unix_nano = proto::read_fixed64(r, p, "start_time_unix_nano");
        break;
      case 3:
        out->time_unix_nano = proto::read_fixed64(r, p, "time_unix_nano");
        break;
      case 4:
        out->count = proto::read_fixed64(r, p, "count");
        break;
      case 5:
        out->sum = proto::read_double(r, p, "sum");
        out->has_sum = true;
        break;
      case 6:
        out->scale = proto::read_sint32(r, p, "scale");
        break;
      case 7:
        out->zero_count = proto::read_fixed64(r, p, "zero_count");
        break;
      case 8:
        detail::decode_singular(r, p, "positive", &out->positive, decode_buckets);
        break;
      case 9:
        detail::decode_singular(r, p, "negative", &out->negative, decode_buckets);
        break;
      case 10:
        out->flags = proto::read_uint32(r, p, "flags");
        break;
      case 11:
        detail::decode_repeated(r, p, "exemplars", &out->exemplars, decode_exemplar);
        break;
      case 12:
        out->min = proto::read_double(r, p, "min");
        out->has_min = true;
        break;
      case 13:
        out->max = proto::read_double(r, p, "max");
        out->has_max = true;
        break;
      case 14:
        out->zero_threshold = proto::read_double(r, p, "zero_threshold");
        break;
      default:
        r.skip();
    }
  }
}

// Gauge, Sum, Histogram and ExponentialHistogram share one shape: points in
// field 1, temporality in field 2, Sum's monotonic flag in 3.
void decode_data(pbf_reader r, proto::DecodePath& p, Metric* out) {
  while (proto::next_field(r, p)) {
    switch (r.tag()) {
      case 1:
        switch (out->type) {
          case Metric::Type::kGauge:
          case Metric::Type::kSum:
            detail::decode_repeated(r, p, "data_points", &out->number_points, decode_number_point);
            break;
          case Metric::Type::kHistogram:
            detail::decode_repeated(r, p, "data_points", &out->histogram_points,
                                    decode_histogram_point);
            break;
          case Metric::Type::kExponentialHistogram:
            detail::decode_repeated(r, p, "data_points", &out->exp_histogram_points,
                                    decode_exp_point);
            break;
          case Metric::Type::kEmpty:
            r.skip();
            break;
        }
        break;
      case 2:
        if (out->type == Metric::Type::kGauge) {
          r.skip();  // Gauge has no field 2; unknown fields are skipped
        } else {
          out->temporality = to_temporality(proto::read_enum(r, p, "aggregation_temporality"));
        }
        break;
      case 3:
        if (out->type == Metric::Type::kSum) {
          out->is_monotonic = proto::read_bool(r, p, "is_monotonic");
        } else {
          r.skip();
        }
        break;
      default:
        r.skip();
    }
  }
}

// oneof data: a different member replaces what an earlier one decoded.
void set_metric_type(Metric* m, Metric::Type type) {
  if (m->type == type) return;
  m->type = type;
  m->number_points.clear();
  m->histogram_points.clear();
  m->exp_histogram_points.clear();
  m->is_monotonic = false;
  m->temporality = AggregationTemporality::kUnspecified;
}

void decode_metric(pbf_reader r, proto::DecodePath& p, Metric* out) {
  while (proto::next_field(r, p)) {
    switch (r.tag()) {
      case 1:
        out->name = proto::read_bytes(r, p, "name");
        break;
      case 2:
        out->description = proto::read_bytes(r, p, "description");
        break;
      case 3:
        out->unit = proto::read_bytes(r, p, "unit");
        break;
      case 5:
        set_metric_type(out, Metric::Type::kGauge);
        detail::decode_singular(r, p, "gauge", out, decode_data);
        break;
      case 7:
        set_metric_type(out, Metric::Type::kSum);
        detail::decode_singular(r, p, "sum", out, decode_data);
        break;
      case 9:
        set_metric_type(out, Metric::Type::kHistogram);
        detail::decode_singular(r, p, "histogram", out, decode_data);
        break;
      case 10:
        set_metric_type(out, Metric::Type::kExponentialHistogram);
        detail::decode_singular(r, p, "exponential_histogram", out, decode_data);
        break;
      case 11:
        // Summary is not kept (Pyrometer computes quantiles from histograms).
        proto::read_message(r, p, "summary");
        set_metric_type(out, Metric::Type::kEmpty);
        break;
      case 12:
        detail::decode_attribute(r, p, "metadata", &out->metadata);
        break;
      default:
        r.skip();
    }
  }
}

// ---- encoding ----
// Fields are written in field-number order, as the reference protobuf
// serializers do, so our bytes equal theirs for the same message.

void encode_exemplars(pbf_writer& m, const detail::Writer& w, uint32_t tag,
                      const std::vector<Exemplar>& exemplars) {
  for (const Exemplar& e : exemplars) {
    detail::write_message(m, w, tag, /*keep_empty=*/true, [&](pbf_writer& em) {
      detail::put_fixed64(em, 2, e.time_unix_nano);
      if (!e.is_int) em.add_double(3, e.as_double);
      detail::put_string(em, 4, e.span_id);
      detail::put_string(em, 5, e.trace_id);
      if (e.is_int) em.add_sfixed64(6, e.as_int);
      detail::encode_key_values(em, w, 7, e.filtered_attributes);
    });
  }
}

void encode_number_point(pbf_writer& m, const detail::Writer& w, const NumberDataPoint& d) {
  detail::put_fixed64(m, 2, d.start_time_unix_nano);
  detail::put_fixed64(m, 3, d.time_unix_nano);
  // The value oneof is written even when zero: its presence says int or double.
  if (!d.is_int) m.add_double(4, d.as_double);
  encode_exemplars(m, w, 5, d.exemplars);
  if (d.is_int) m.add_sfixed64(6, d.as_int);
  detail::encode_key_values(m, w, 7, d.attributes);
  detail::put_uint32(m, 8, d.flags);
}

void encode_histogram_point(pbf_writer& m, const detail::Writer& w, const HistogramDataPoint& d) {
  detail::put_fixed64(m, 2, d.start_time_unix_nano);
  detail::put_fixed64(m, 3, d.time_unix_nano);
  detail::put_fixed64(m, 4, d.count);
  if (d.has_sum) m.add_double(5, d.sum);
  m.add_packed_fixed64(6, d.bucket_counts.begin(), d.bucket_counts.end());
  m.add_packed_double(7, d.explicit_bounds.begin(), d.explicit_bounds.end());
  encode_exemplars(m, w, 8, d.exemplars);
  detail::encode_key_values(m, w, 9, d.attributes);
  detail::put_uint32(m, 10, d.flags);
  if (d.has_min) m.add_double(11, d.min);
  if (d.has_max) m.add_double(12, d.max);
}

void encode_buckets(pbf_writer& m, const detail::Writer& w, uint32_t tag,
                    const ExponentialBuckets& b) {
  detail::write_message(m, w, tag, /*keep_empty=*/false, [&](pbf_writer& bm) {
    if (b.offset != 0) bm.add_sint32(1, b.offset);
    bm.add_packed_uint64(2, b.bucket_counts.begin(), b.bucket_counts.end());
  });
}

void encode_exp_point(pbf_writer& m, const detail::Writer& w,
                      const ExponentialHistogramDataPoint& d) {
  detail::encode_key_values(m, w, 1, d.attributes);
  detail::put_fixed64(m, 2, d.start_time_unix_nano);
  detail::put_fixed64(m, 3, d.time_unix_nano);
  detail::put_fixed64(m, 4, d.count);
  if (d.has_sum) m.add_double(5, d.sum);
  if (d.scale != 0) m.add_sint32(6, d.scale);
  detail::put_fixed64(m, 7, d.zero_count);
  encode_buckets(m, w, 8, d.positive);
  encode_buckets(m, w, 9, d.negative);
  detail::put_uint32(m, 10, d.flags);
  encode_exemplars(m, w, 11, d.exemplars);
  if (d.has_min) m.add_double(12, d.min);
  if (d.has_max) m.add_double(13, d.max);
  // Bit test, not == 0.0: -0.0 must survive a round trip.
  if (std::signbit(d.zero_threshold) || d.zero_threshold != 0) m.add_double(14, d.zero_threshold);
}

template <typename Point, typename Fn>
void encode_points(pbf_writer& m, const detail::Writer& w, const std::vector<Point>& points,
                   Fn&& encode_one) {
  for (const Point& pt : points) {
    detail::write_message(m, w, 1, /*keep_empty=*/true,
                          [&](pbf_writer& pm) { encode_one(pm, w, pt); });
  }
}

void encode_metric(pbf_writer& m, const detail::Writer& w, const Metric& metric) {
  detail::put_string(m, 1, metric.name);
  detail::put_string(m, 2, metric.description);
  detail::put_string(m, 3, metric.unit);
  const int32_t temporality = static_cast<int32_t>(metric.temporality);
  switch (metric.type) {
    case Metric::Type::kEmpty:
      break;
    case Metric::Type::kGauge:
      // keep_empty: an empty gauge is still a gauge.
      detail::write_message(m, w, 5, /*keep_empty=*/true, [&](pbf_writer& g) {
        encode_points(g, w, metric.number_points, encode_number_point);
      });
      break;
    case Metric::Type::kSum:
      detail::write_message(m, w, 7, /*keep_empty=*/true, [&](pbf_writer& s) {
        encode_points(s, w, metric.number_points, encode_number_point);
        detail::put_enum(s, 2, temporality);
        if (metric.is_monotonic) s.add_bool(3, true);
      });
      break;
    case Metric::Type::kHistogram:
      detail::write_message(m, w, 9, /*keep_empty=*/true, [&](pbf_writer& h) {
        encode_points(h, w, metric.histogram_points, encode_histogram_point);
        detail::put_enum(h, 2, temporality);
      });
      break;
    case Metric::Type::kExponentialHistogram:
      detail::write_message(m, w, 10, /*keep_empty=*/true, [&](pbf_writer& h) {
        encode_points(h, w, metric.exp_histogram_points, encode_exp_point);
        detail::put_enum(h, 2, temporality);
      });
      break;
  }
  detail::encode_key_values(m, w, 12, metric.metadata);
}

constexpr detail::Envelope<MetricsRequest, ResourceMetrics, ScopeMetrics, Metric> kEnvelope{
    "ExportMetricsServiceRequest",
    &MetricsRequest::resource_metrics,
    "resource_metrics",
    &ResourceMetrics::scope_metrics,
    "scope_metrics",
    &ScopeMetrics::metrics,
    "metrics"};

}  // namespace

Status decode_metrics(std::string_view data, MetricsRequest* out) {
  return detail::decode_envelope(data, kEnvelope, decode_metric, out);
}

void encode_metrics(const MetricsRequest& req, std::string* out) {
  detail::encode_envelope(req, kEnvelope, encode_metric, out);
}

}  // namespace pyrometer::common::otlp
