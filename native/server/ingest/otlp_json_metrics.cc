// OTLP JSON decoder, metrics part: gauge, sum, histogram and exponential
// histogram data points and exemplars (see otlp_json.h for the mapping).
#include "server/ingest/otlp_json_internal.h"

namespace pyrometer::server::ingest::json_internal {

void Decoder::exemplars(const Value& v, std::vector<otlp::Exemplar>* out) {
  for_array(v, path_, "exemplars", out, [&](const Value& e, otlp::Exemplar* ex) {
    for_members(e, path_, [&](std::string_view k, const Value& f) {
      if (k == "filteredattributes") {
        attributes(f, "filteredAttributes", &ex->filtered_attributes);
      } else if (k == "timeunixnano") {
        ex->time_unix_nano = integer<uint64_t>(f, path_, "timeUnixNano");
      } else if (k == "asdouble") {
        ex->is_int = false;
        ex->as_double = number(f, path_, "asDouble");
      } else if (k == "asint") {
        ex->is_int = true;
        ex->as_int = integer<int64_t>(f, path_, "asInt");
      } else if (k == "spanid") {
        ex->span_id = id(f, "spanId", 8);
      } else if (k == "traceid") {
        ex->trace_id = id(f, "traceId", 16);
      }
    });
  });
}

void Decoder::number_point(const Value& v, otlp::NumberDataPoint* out) {
  for_members(v, path_, [&](std::string_view k, const Value& f) {
    if (k == "attributes") {
      attributes(f, "attributes", &out->attributes);
    } else if (k == "starttimeunixnano") {
      out->start_time_unix_nano = integer<uint64_t>(f, path_, "startTimeUnixNano");
    } else if (k == "timeunixnano") {
      out->time_unix_nano = integer<uint64_t>(f, path_, "timeUnixNano");
    } else if (k == "asdouble") {
      out->is_int = false;
      out->as_double = number(f, path_, "asDouble");
    } else if (k == "asint") {
      out->is_int = true;
      out->as_int = integer<int64_t>(f, path_, "asInt");
    } else if (k == "exemplars") {
      exemplars(f, &out->exemplars);
    } else if (k == "flags") {
      out->flags = integer<uint32_t>(f, path_, "flags");
    }
  });
}

// Repeated uint64 / double fields.
template <typename T, typename Fn>
void scalars(const Value& v, Path& path, const char* name, std::vector<T>* out, Fn&& one) {
  for_array(v, path, name, out, [&](const Value& e, T* x) { *x = one(e); });
}

void Decoder::histogram_point(const Value& v, otlp::HistogramDataPoint* out) {
  for_members(v, path_, [&](std::string_view k, const Value& f) {
    if (k == "attributes") {
      attributes(f, "attributes", &out->attributes);
    } else if (k == "starttimeunixnano") {
      out->start_time_unix_nano = integer<uint64_t>(f, path_, "startTimeUnixNano");
    } else if (k == "timeunixnano") {
      out->time_unix_nano = integer<uint64_t>(f, path_, "timeUnixNano");
    } else if (k == "count") {
      out->count = integer<uint64_t>(f, path_, "count");
    } else if (k == "sum") {
      out->has_sum = true;
      out->sum = number(f, path_, "sum");
    } else if (k == "bucketcounts") {
      scalars(f, path_, "bucketCounts", &out->bucket_counts,
              [&](const Value& e) { return integer<uint64_t>(e, path_, "bucketCounts"); });
    } else if (k == "explicitbounds") {
      scalars(f, path_, "explicitBounds", &out->explicit_bounds,
              [&](const Value& e) { return number(e, path_, "explicitBounds"); });
    } else if (k == "exemplars") {
      exemplars(f, &out->exemplars);
    } else if (k == "flags") {
      out->flags = integer<uint32_t>(f, path_, "flags");
    } else if (k == "min") {
      out->has_min = true;
      out->min = number(f, path_, "min");
    } else if (k == "max") {
      out->has_max = true;
      out->max = number(f, path_, "max");
    }
  });
}

void Decoder::exp_histogram_point(const Value& v, otlp::ExponentialHistogramDataPoint* out) {
  auto buckets = [&](const Value& f, const char* name, otlp::ExponentialBuckets* b) {
    Scope sc(path_, name);
    for_members(f, path_, [&](std::string_view k, const Value& g) {
      if (k == "offset") {
        b->offset = integer<int32_t>(g, path_, "offset");
      } else if (k == "bucketcounts") {
        scalars(g, path_, "bucketCounts", &b->bucket_counts,
                [&](const Value& e) { return integer<uint64_t>(e, path_, "bucketCounts"); });
      }
    });
  };
  for_members(v, path_, [&](std::string_view k, const Value& f) {
    if (k == "attributes") {
      attributes(f, "attributes", &out->attributes);
    } else if (k == "starttimeunixnano") {
      out->start_time_unix_nano = integer<uint64_t>(f, path_, "startTimeUnixNano");
    } else if (k == "timeunixnano") {
      out->time_unix_nano = integer<uint64_t>(f, path_, "timeUnixNano");
    } else if (k == "count") {
      out->count = integer<uint64_t>(f, path_, "count");
    } else if (k == "sum") {
      out->has_sum = true;
      out->sum = number(f, path_, "sum");
    } else if (k == "scale") {
      out->scale = integer<int32_t>(f, path_, "scale");
    } else if (k == "zerocount") {
      out->zero_count = integer<uint64_t>(f, path_, "zeroCount");
    } else if (k == "positive") {
      buckets(f, "positive", &out->positive);
    } else if (k == "negative") {
      buckets(f, "negative", &out->negative);
    } else if (k == "flags") {
      out->flags = integer<uint32_t>(f, path_, "flags");
    } else if (k == "exemplars") {
      exemplars(f, &out->exemplars);
    } else if (k == "min") {
      out->has_min = true;
      out->min = number(f, path_, "min");
    } else if (k == "max") {
      out->has_max = true;
      out->max = number(f, path_, "max");
    } else if (k == "zerothreshold") {
      out->zero_threshold = number(f, path_, "zeroThreshold");
    }
  });
}

void Decoder::metric(const Value& v, otlp::Metric* out) {
  auto temporality = [&](const Value& f) {
    int t = enumeration(f, path_, "aggregationTemporality", "AGGREGATION_TEMPORALITY_",
                        {"UNSPECIFIED", "DELTA", "CUMULATIVE"});
    if (t < 0 || t > 2) {
      Scope sc(path_, "aggregationTemporality");
      path_.fail("aggregation temporality out of range");
    }
    out->temporality = static_cast<otlp::AggregationTemporality>(t);
  };
  // gauge / sum / histogram / exponentialHistogram bodies.
  auto data = [&](const Value& f, const char* name, otlp::Metric::Type type) {
    Scope sc(path_, name);
    out->type = type;
    for_members(f, path_, [&](std::string_view k, const Value& g) {
      if (k == "aggregationtemporality") {
        temporality(g);
      } else if (k == "ismonotonic") {
        out->is_monotonic = boolean(g, path_, "isMonotonic");
      } else if (k == "datapoints") {
        switch (type) {
          case otlp::Metric::Type::kGauge:
          case otlp::Metric::Type::kSum:
            for_array(g, path_, "dataPoints", &out->number_points,
                      [&](const Value& e, otlp::NumberDataPoint* p) { number_point(e, p); });
            break;
          case otlp::Metric::Type::kHistogram:
            for_array(g, path_, "dataPoints", &out->histogram_points,
                      [&](const Value& e, otlp::HistogramDataPoint* p) { histogram_point(e, p); });
            break;
          default:
            for_array(g, path_, "dataPoints", &out->exp_histogram_points,
                      [&](const Value& e, otlp::ExponentialHistogramDataPoint* p) {
                        exp_histogram_point(e, p);
                      });
        }
      }
    });
  };
  for_members(v, path_, [&](std::string_view k, const Value& f) {
    if (k == "name") {
      out->name = str(f, path_, "name");
    } else if (k == "description") {
      out->description = str(f, path_, "description");
    } else if (k == "unit") {
      out->unit = str(f, path_, "unit");
    } else if (k == "gauge") {
      data(f, "gauge", otlp::Metric::Type::kGauge);
    } else if (k == "sum") {
      data(f, "sum", otlp::Metric::Type::kSum);
    } else if (k == "histogram") {
      data(f, "histogram", otlp::Metric::Type::kHistogram);
    } else if (k == "exponentialhistogram") {
      data(f, "exponentialHistogram", otlp::Metric::Type::kExponentialHistogram);
    } else if (k == "metadata") {
      attributes(f, "metadata", &out->metadata);
    }
  });
}

}  // namespace pyrometer::server::ingest::json_internal
