// Metric table implementation. The value blob holds, by type:
//   gauge/sum:  is_int u8, then zigzag varint (int) or f64
//   histogram:  count varint, sum/min/max f64, n bounds + f64s, n counts + varints
//   exp hist.:  count varint, sum/min/max f64, scale zigzag, zero_count varint,
//               positive offset zigzag + n + varints, negative offset + n + varints
#include "server/store/metric_table.h"

#include "server/store/row_codec.h"
#include "server/store/span_table.h"

namespace pyrometer::server::store {
namespace {

using common::otlp::Metric;

void put_counts(std::string* out, const std::vector<uint64_t>& v) {
  put_varint(out, v.size());
  for (uint64_t c : v) put_varint(out, c);
}

bool get_counts(ByteReader* r, std::vector<uint64_t>* v) {
  uint64_t n;
  if (!r->varint(&n) || n > (1u << 20)) return false;
  v->resize(n);
  for (auto& c : *v) {
    if (!r->varint(&c)) return false;
  }
  return true;
}

void push_common(Table* t, const Metric& m, uint32_t service, uint32_t resource,
                 const std::vector<common::otlp::KeyValue>& attrs, uint64_t start, uint64_t time,
                 std::string_view value) {
  Dictionary& d = t->dict();
  t->push_int(kMetName, d.intern(m.name));
  t->push_int(kMetUnit, d.intern(m.unit));
  t->push_int(kMetService, service);
  uint64_t type = m.type == Metric::Type::kGauge       ? 1
                  : m.type == Metric::Type::kSum       ? 2
                  : m.type == Metric::Type::kHistogram ? 3
                                                       : 4;
  t->push_int(kMetTypeInfo, type | (static_cast<uint64_t>(m.temporality) << 3) |
                                (static_cast<uint64_t>(m.is_monotonic) << 5));
  t->push_int(kMetStart, start);
  t->push_int(kMetTime, time);
  std::string buf;
  encode_otlp_attrs(attrs, &d, &buf);
  t->push_blob(kMetAttrs, buf);
  t->push_int(kMetResource, resource);
  t->push_blob(kMetValue, value);
  t->end_row();
}

}  // namespace

const TableSchema& metric_schema() {
  static const TableSchema kSchema{
      "metrics",
      {
          {"name", ColumnKind::kInt, IntEncoding::kVarint, 0, ColumnRef::kDictId},
          {"unit", ColumnKind::kInt, IntEncoding::kVarint, 0, ColumnRef::kDictId},
          {"service", ColumnKind::kInt, IntEncoding::kVarint, 0, ColumnRef::kDictId},
          {"type", ColumnKind::kInt},
          {"start", ColumnKind::kInt, IntEncoding::kVarint, 0, ColumnRef::kNone, kMetTime},
          {"time", ColumnKind::kInt, IntEncoding::kDeltaOfDelta},
          {"attrs", ColumnKind::kBlob, IntEncoding::kVarint, 0, ColumnRef::kAttrs},
          {"resource", ColumnKind::kInt, IntEncoding::kVarint, 0, ColumnRef::kDictAttrSet},
          {"value", ColumnKind::kBlob},
      }};
  return kSchema;
}

int64_t append_metrics(Table* t, const common::otlp::MetricsRequest& req) {
  Dictionary& d = t->dict();
  int64_t n = 0;
  std::string buf, value;
  for (const auto& rm : req.resource_metrics) {
    uint32_t service = d.intern(service_name_of(rm.resource));
    buf.clear();
    encode_otlp_attrs(rm.resource.attributes, &d, &buf);
    uint32_t resource = d.intern(buf);
    for (const auto& sm : rm.scope_metrics) {
      for (const auto& m : sm.metrics) {
        switch (m.type) {
          case Metric::Type::kGauge:
          case Metric::Type::kSum:
            for (const auto& p : m.number_points) {
              value.clear();
              value.push_back(p.is_int ? 1 : 0);
              if (p.is_int) {
                put_varint(&value, zigzag(p.as_int));
              } else {
                put_double(&value, p.as_double);
              }
              push_common(t, m, service, resource, p.attributes, p.start_time_unix_nano,
                          p.time_unix_nano, value);
              ++n;
            }
            break;
          case Metric::Type::kHistogram:
            for (const auto& p : m.histogram_points) {
              value.clear();
              put_varint(&value, p.count);
              put_double(&value, p.sum);
              put_double(&value, p.has_min ? p.min : 0);
              put_double(&value, p.has_max ? p.max : 0);
              put_varint(&value, p.explicit_bounds.size());
              for (double b : p.explicit_bounds) put_double(&value, b);
              put_counts(&value, p.bucket_counts);
              push_common(t, m, service, resource, p.attributes, p.start_time_unix_nano,
                          p.time_unix_nano, value);
              ++n;
            }
            break;
          case Metric::Type::kExponentialHistogram:
            for (const auto& p : m.exp_histogram_points) {
              value.clear();
              put_varint(&value, p.count);
              put_double(&value, p.sum);
              put_double(&value, p.has_min ? p.min : 0);
              put_double(&value, p.has_max ? p.max : 0);
              put_varint(&value, zigzag(p.scale));
              put_varint(&value, p.zero_count);
              put_varint(&value, zigzag(p.positive.offset));
              put_counts(&value, p.positive.bucket_counts);
              put_varint(&value, zigzag(p.negative.offset));
              put_counts(&value, p.negative.bucket_counts);
              push_common(t, m, service, resource, p.attributes, p.start_time_unix_nano,
                          p.time_unix_nano, value);
              ++n;
            }
            break;
          default:
            break;
        }
      }
    }
  }
  return n;
}

Status materialize_metric(const Table& t, size_t row, MetricPointRow* out) {
  const Dictionary& d = t.dict();
  *out = MetricPointRow();
  out->name.assign(t.str_at(kMetName, row));
  out->unit.assign(t.str_at(kMetUnit, row));
  out->service.assign(t.str_at(kMetService, row));
  uint64_t ti = t.int_at(kMetTypeInfo, row);
  out->type = static_cast<MetricPointRow::Type>(ti & 7);
  out->temporality = static_cast<uint8_t>((ti >> 3) & 3);
  out->is_monotonic = (ti >> 5) & 1;
  out->start_time_unix_nano = t.int_at(kMetStart, row);
  out->time_unix_nano = t.int_at(kMetTime, row);
  ByteReader attrs(t.col(kMetAttrs).blob(row));
  ByteReader res(t.str_at(kMetResource, row));
  if (!decode_attrs(&attrs, d, &out->attributes) ||
      !decode_attrs(&res, d, &out->resource_attributes)) {
    return Status::corruption("metric row has malformed attributes");
  }
  ByteReader v(t.col(kMetValue).blob(row));
  bool ok = true;
  uint64_t x;
  switch (out->type) {
    case MetricPointRow::Type::kGauge:
    case MetricPointRow::Type::kSum: {
      std::string_view flag;
      ok = v.raw(1, &flag);
      if (ok && flag[0]) {
        out->is_int = true;
        ok = v.varint(&x);
        out->int_value = unzigzag(x);
        out->value = static_cast<double>(out->int_value);
      } else if (ok) {
        ok = v.dbl(&out->value);
      }
      break;
    }
    case MetricPointRow::Type::kHistogram: {
      ok = v.varint(&out->count) && v.dbl(&out->sum) && v.dbl(&out->min) && v.dbl(&out->max) &&
           v.varint(&x) && x < (1u << 20);
      if (ok) {
        out->explicit_bounds.resize(x);
        for (auto& b : out->explicit_bounds) ok = ok && v.dbl(&b);
      }
      ok = ok && get_counts(&v, &out->bucket_counts);
      break;
    }
    case MetricPointRow::Type::kExponentialHistogram: {
      uint64_t scale, po, no;
      ok = v.varint(&out->count) && v.dbl(&out->sum) && v.dbl(&out->min) && v.dbl(&out->max) &&
           v.varint(&scale) && v.varint(&out->zero_count) && v.varint(&po) &&
           get_counts(&v, &out->bucket_counts) && v.varint(&no) &&
           get_counts(&v, &out->negative_counts);
      out->scale = static_cast<int32_t>(unzigzag(scale));
      out->positive_offset = static_cast<int32_t>(unzigzag(po));
      out->negative_offset = static_cast<int32_t>(unzigzag(no));
      break;
    }
    default:
      ok = false;
  }
  if (!ok) return Status::corruption("metric row has a malformed value");
  return Status::ok_status();
}

bool metric_matches(const Table& t, size_t row, const MetricFilter& f) {
  uint64_t time = t.int_at(kMetTime, row);
  if (time < f.start_unix_nano || time >= f.end_unix_nano) return false;
  if (!f.name.empty() && t.str_at(kMetName, row) != f.name) return false;
  if (!f.service.empty() && t.str_at(kMetService, row) != f.service) return false;
  return true;
}

}  // namespace pyrometer::server::store
