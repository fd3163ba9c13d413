// Rollup aggregation, histogram bucket arithmetic and the rollup file payload.
#include "server/store/rollup.h"

#include <algorithm>
#include <cmath>

#include "common/exp_histogram.h"
#include "server/store/column_codec.h"
#include "server/store/span_table.h"

namespace pyrometer::server::store {
namespace {

namespace otlp = common::otlp;

// Bucket index of v > 0 at `scale`: bucket i covers (2^(i/2^s), 2^((i+1)/2^s)].
int32_t bucket_index(double v, int32_t scale) {
  scale = std::clamp(scale, common::kExpHistogramMinScale, common::kExpHistogramMaxScale);
  return common::exp_map_to_index(v, scale);
}

void downscale(RollupHistogram* h, int32_t by) {
  if (by <= 0) return;
  if (h->counts.empty()) {
    h->scale -= by;
    return;
  }
  int32_t new_offset = h->offset >> by;
  int32_t last = (h->offset + static_cast<int32_t>(h->counts.size()) - 1) >> by;
  std::vector<uint64_t> c(static_cast<size_t>(last - new_offset + 1), 0);
  for (size_t i = 0; i < h->counts.size(); ++i) {
    c[static_cast<size_t>(((h->offset + static_cast<int32_t>(i)) >> by) - new_offset)] +=
        h->counts[i];
  }
  h->counts.swap(c);
  h->offset = new_offset;
  h->scale -= by;
}

// Adds `count` to bucket `idx`, downscaling when the span would get too wide.
void add_bucket(RollupHistogram* h, int32_t idx, uint64_t count) {
  for (;;) {
    if (h->counts.empty()) {
      h->offset = idx;
      h->counts.assign(1, count);
      return;
    }
    int32_t lo = std::min(h->offset, idx);
    int32_t hi = std::max(h->offset + static_cast<int32_t>(h->counts.size()) - 1, idx);
    if (static_cast<size_t>(hi - lo + 1) <= kRollupMaxBuckets) {
      if (idx < h->offset) {
        h->counts.insert(h->counts.begin(), static_cast<size_t>(h->offset - idx), 0);
        h->offset = idx;
      } else if (idx >= h->offset + static_cast<int32_t>(h->counts.size())) {
        h->counts.resize(static_cast<size_t>(idx - h->offset + 1), 0);
      }
      h->counts[static_cast<size_t>(idx - h->offset)] += count;
      return;
    }
    downscale(h, 1);
    idx >>= 1;
  }
}

void update_min_max(RollupHistogram* h, double mn, double mx, bool was_empty) {
  if (was_empty) {
    h->min = mn;
    h->max = mx;
  } else {
    h->min = std::min(h->min, mn);
    h->max = std::max(h->max, mx);
  }
}

uint64_t total(const RollupHistogram& h) {
  uint64_t n = h.zero_count;
  for (uint64_t c : h.counts) n += c;
  return n;
}

std::string_view str_attr(const std::vector<otlp::KeyValue>& kvs, std::string_view key) {
  for (const auto& kv : kvs) {
    if (kv.key == key && kv.value.type == otlp::AnyValue::Type::kString)
      return kv.value.string_value;
  }
  return {};
}

int64_t int_attr(const std::vector<otlp::KeyValue>& kvs, std::string_view key) {
  for (const auto& kv : kvs) {
    if (kv.key != key) continue;
    if (kv.value.type == otlp::AnyValue::Type::kInt) return kv.value.int_value;
    if (kv.value.type == otlp::AnyValue::Type::kString) {
      int64_t v = 0;
      for (char c : kv.value.string_value) {
        if (c < '0' || c > '9') return 0;
        v = v * 10 + (c - '0');
      }
      return v;
    }
  }
  return 0;
}

uint8_t kind_from_string(std::string_view k) {
  if (k == "server" || k == "SERVER") return 2;
  if (k == "client" || k == "CLIENT") return 3;
  if (k == "producer" || k == "PRODUCER") return 4;
  if (k == "consumer" || k == "CONSUMER") return 5;
  if (k == "internal" || k == "INTERNAL") return 1;
  return 0;
}

std::string http_class(int64_t code) {
  return std::string(1, static_cast<char>('0' + code / 100)) + "xx";
}

}  // namespace

void histogram_record(RollupHistogram* h, double value, uint64_t count) {
  bool was_empty = total(*h) == 0;
  if (was_empty && h->counts.empty()) h->scale = kRollupSpanScale;
  update_min_max(h, value, value, was_empty);
  h->sum += value * static_cast<double>(count);
  if (!(value > 0) || !std::isfinite(value)) {
    h->zero_count += count;
    return;
  }
  add_bucket(h, bucket_index(value, h->scale), count);
}

void histogram_merge(RollupHistogram* into, const RollupHistogram& from) {
  uint64_t from_total = total(from);
  if (from_total == 0) return;
  bool was_empty = total(*into) == 0;
  if (was_empty) {
    *into = from;
    return;
  }
  RollupHistogram f = from;
  int32_t scale = std::min(into->scale, f.scale);
  downscale(into, into->scale - scale);
  downscale(&f, f.scale - scale);
  for (size_t i = 0; i < f.counts.size(); ++i) {
    if (f.counts[i]) add_bucket(into, f.offset + static_cast<int32_t>(i), f.counts[i]);
  }
  into->zero_count += f.zero_count;
  into->sum += f.sum;
  update_min_max(into, f.min, f.max, false);
}

bool is_pyrometer_resource(const otlp::Resource& res) {
  return str_attr(res.attributes, "telemetry.sdk.name") == "pyrometer";
}

RollupRow* RollupSet::row_for(uint64_t minute, std::string_view service, std::string_view route,
                              uint8_t kind, std::string_view status_class) {
  auto it = rows_.find(KeyView{minute, service, route, kind, status_class});
  if (it != rows_.end()) return &it->second;
  if (rows_.size() >= kRollupMaxKeys) {
    ++dropped_;
    return nullptr;
  }
  RollupRow& r =
      rows_[Key{minute, std::string(service), std::string(route), kind, std::string(status_class)}];
  r.minute_unix_nano = minute;
  r.service.assign(service);
  r.route.assign(route);
  r.span_kind = kind;
  r.status_class.assign(status_class);
  bytes_ += 256 + service.size() + route.size();
  return &r;
}

void RollupSet::add_traces(const otlp::TracesRequest& req) {
  for (const auto& rs : req.resource_spans) {
    if (is_pyrometer_resource(rs.resource)) continue;  // RED comes from its metrics
    std::string_view service = service_name_of(rs.resource);
    for (const auto& ss : rs.scope_spans) {
      for (const auto& s : ss.spans) {
        std::string_view route = str_attr(s.attributes, "http.route");
        if (route.empty()) route = s.name;
        int64_t http = int_attr(s.attributes, "http.response.status_code");
        if (http == 0) http = int_attr(s.attributes, "http.status_code");
        std::string cls = http >= 100 && http < 600                   ? http_class(http)
                          : s.status_code == otlp::StatusCode::kError ? "error"
                          : s.status_code == otlp::StatusCode::kOk    ? "ok"
                                                                      : "unset";
        bool error = s.status_code == otlp::StatusCode::kError || http >= 500;
        uint64_t minute = s.start_time_unix_nano / kMinuteNanos * kMinuteNanos;
        RollupRow* r = row_for(minute, service, route, static_cast<uint8_t>(s.kind), cls);
        if (!r) continue;
        r->count++;
        r->errors += error ? 1 : 0;
        double secs = s.end_time_unix_nano > s.start_time_unix_nano
                          ? static_cast<double>(s.end_time_unix_nano - s.start_time_unix_nano) / 1e9
                          : 0.0;
        size_t before = r->duration_seconds.counts.size();
        histogram_record(&r->duration_seconds, secs, 1);
        bytes_ += (r->duration_seconds.counts.size() - before) * 8;
      }
    }
  }
}

void RollupSet::add_metrics(const otlp::MetricsRequest& req) {
  using MT = otlp::Metric::Type;
  for (const auto& rm : req.resource_metrics) {
    if (!is_pyrometer_resource(rm.resource)) continue;  // RED comes from its spans
    std::string_view res_service = service_name_of(rm.resource);
    for (const auto& sm : rm.scope_metrics) {
      for (const auto& m : sm.metrics) {
        if (m.name != "http.server.request.duration" && m.name != "pyrometer.span.duration")
          continue;
        // Cumulative points would be counted again at every export.
        if (m.temporality != otlp::AggregationTemporality::kDelta) continue;
        bool http_metric = m.name == "http.server.request.duration";
        auto key_of = [&](const std::vector<otlp::KeyValue>& a, uint64_t time) {
          std::string_view service = str_attr(a, "service");
          if (service.empty()) service = res_service;
          std::string_view route = str_attr(a, "http.route");
          // docs/format/agent-metrics.md: non-HTTP operations carry pyrometer.operation.
          if (route.empty()) route = str_attr(a, "pyrometer.operation");
          uint8_t kind = kind_from_string(str_attr(a, "span.kind"));
          if (kind == 0 && http_metric) kind = 2;
          std::string cls(str_attr(a, "status_class"));
          if (cls.empty()) {
            int64_t http = int_attr(a, "http.response.status_code");
            cls = http >= 100 && http < 600 ? http_class(http) : "unset";
          }
          bool error = cls == "5xx" || cls == "error" || !str_attr(a, "error.type").empty();
          uint64_t minute = time / kMinuteNanos * kMinuteNanos;
          return std::make_pair(row_for(minute, service, route, kind, cls), error);
        };
        if (m.type == MT::kExponentialHistogram) {
          for (const auto& p : m.exp_histogram_points) {
            auto [r, error] = key_of(p.attributes, p.time_unix_nano);
            if (!r) continue;
            RollupHistogram h;
            h.scale = p.scale;
            h.zero_count = p.zero_count;
            h.offset = p.positive.offset;
            h.counts = p.positive.bucket_counts;
            h.sum = p.has_sum ? p.sum : 0;
            h.min = p.has_min ? p.min : 0;
            h.max = p.has_max ? p.max : 0;
            // Negative durations are meaningless; they count as zero.
            for (uint64_t c : p.negative.bucket_counts) h.zero_count += c;
            r->count += p.count;
            r->errors += error ? p.count : 0;
            histogram_merge(&r->duration_seconds, h);
          }
        } else if (m.type == MT::kHistogram) {
          // Explicit buckets: each bucket's count is placed at its upper bound
          // (lower bound for the overflow bucket); exact count and sum.
          for (const auto& p : m.histogram_points) {
            auto [r, error] = key_of(p.attributes, p.time_unix_nano);
            if (!r) continue;
            RollupHistogram h;
            for (size_t i = 0; i < p.bucket_counts.size(); ++i) {
              if (!p.bucket_counts[i]) continue;
              double at = i < p.explicit_bounds.size() ? p.explicit_bounds[i]
                          : p.explicit_bounds.empty()  ? (p.count ? p.sum / p.count : 0)
                                                       : p.explicit_bounds.back();
              histogram_record(&h, at, p.bucket_counts[i]);
            }
            h.sum = p.has_sum ? p.sum : h.sum;
            if (p.has_min) h.min = p.min;
            if (p.has_max) h.max = p.max;
            r->count += p.count;
            r->errors += error ? p.count : 0;
            histogram_merge(&r->duration_seconds, h);
          }
        }
      }
    }
  }
}

void RollupSet::merge(const RollupRow& row) {
  RollupRow* r =
      row_for(row.minute_unix_nano, row.service, row.route, row.span_kind, row.status_class);
  if (!r) return;
  r->count += row.count;
  r->errors += row.errors;
  histogram_merge(&r->duration_seconds, row.duration_seconds);
}

void RollupSet::merge_all(const RollupSet& other) {
  for (const auto& [k, row] : other.rows_) merge(row);
}

bool RollupSet::visit(const RollupFilter& f,
                      const std::function<bool(const RollupRow&)>& fn) const {
  for (const auto& [k, row] : rows_) {
    if (row.minute_unix_nano + kMinuteNanos <= f.start_unix_nano) continue;
    if (row.minute_unix_nano >= f.end_unix_nano) break;
    if (!f.service.empty() && row.service != f.service) continue;
    if (!f.route.empty() && row.route != f.route) continue;
    if (!fn(row)) return false;
  }
  return true;
}

void RollupSet::serialize(std::string* out) const {
  put_varint(out, rows_.size());
  uint64_t prev = 0;
  for (const auto& [k, r] : rows_) {
    put_varint(out, r.minute_unix_nano / kMinuteNanos - prev);
    prev = r.minute_unix_nano / kMinuteNanos;
    put_bytes(out, r.service);
    put_bytes(out, r.route);
    out->push_back(static_cast<char>(r.span_kind));
    put_bytes(out, r.status_class);
    put_varint(out, r.count);
    put_varint(out, r.errors);
    const RollupHistogram& h = r.duration_seconds;
    put_varint(out, zigzag(h.scale));
    put_varint(out, h.zero_count);
    put_varint(out, zigzag(h.offset));
    put_varint(out, h.counts.size());
    for (uint64_t c : h.counts) put_varint(out, c);
    put_double(out, h.sum);
    put_double(out, h.min);
    put_double(out, h.max);
  }
}

Status RollupSet::parse(std::string_view in) {
  ByteReader r(in);
  uint64_t n, prev = 0;
  if (!r.varint(&n)) return Status::corruption("rollup count");
  for (uint64_t i = 0; i < n; ++i) {
    RollupRow row;
    uint64_t dm, scale, offset, nc;
    std::string_view service, route, kind, cls;
    if (!r.varint(&dm) || !r.bytes(&service) || !r.bytes(&route) || !r.raw(1, &kind) ||
        !r.bytes(&cls) || !r.varint(&row.count) || !r.varint(&row.errors) || !r.varint(&scale) ||
        !r.varint(&row.duration_seconds.zero_count) || !r.varint(&offset) || !r.varint(&nc) ||
        nc > kRollupMaxBuckets * 4) {
      return Status::corruption("rollup row truncated");
    }
    prev += dm;
    row.minute_unix_nano = prev * kMinuteNanos;
    row.service.assign(service);
    row.route.assign(route);
    row.span_kind = static_cast<uint8_t>(kind[0]);
    row.status_class.assign(cls);
    RollupHistogram& h = row.duration_seconds;
    h.scale = static_cast<int32_t>(unzigzag(scale));
    h.offset = static_cast<int32_t>(unzigzag(offset));
    h.counts.resize(nc);
    for (auto& c : h.counts) {
      if (!r.varint(&c)) return Status::corruption("rollup buckets truncated");
    }
    if (!r.dbl(&h.sum) || !r.dbl(&h.min) || !r.dbl(&h.max)) return Status::corruption("rollup sum");
    merge(row);
  }
  return Status::ok_status();
}

}  // namespace pyrometer::server::store
