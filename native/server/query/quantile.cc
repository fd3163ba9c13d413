// Histogram arithmetic for query answers; bucket edges come from
// common::exp_lower_boundary so queries and the agent agree on every edge.
#include "server/query/quantile.h"

#include <algorithm>
#include <cmath>

#include "common/exp_histogram.h"

namespace pyrometer::server::query {

namespace {

int32_t clamp_scale(int32_t s) {
  return std::clamp(s, common::kExpHistogramMinScale, common::kExpHistogramMaxScale);
}

// The estimate point of bucket `index`: 2LU/(L+U), i.e. the harmonic mean.
double bucket_point(int64_t index, int32_t scale) {
  double lo = common::exp_lower_boundary(index, scale);
  double hi = common::exp_lower_boundary(index + 1, scale);
  if (!std::isfinite(hi)) return lo;
  return 2 * lo * hi / (lo + hi);
}

}  // namespace

uint64_t histogram_count(const store::RollupHistogram& h) {
  uint64_t n = h.zero_count;
  for (uint64_t c : h.counts) n += c;
  return n;
}

std::optional<double> histogram_quantile(const store::RollupHistogram& h, double q) {
  if (!(q >= 0 && q <= 1)) return std::nullopt;
  uint64_t n = histogram_count(h);
  if (n == 0) return std::nullopt;
  uint64_t rank =
      std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(n))));
  if (rank == 1) return h.min;
  if (rank >= n) return h.max;
  uint64_t seen = h.zero_count;
  if (rank <= seen) return std::clamp(0.0, h.min, h.max);
  int32_t scale = clamp_scale(h.scale);
  for (size_t i = 0; i < h.counts.size(); ++i) {
    seen += h.counts[i];
    if (rank <= seen) {
      double m = bucket_point(static_cast<int64_t>(h.offset) + static_cast<int64_t>(i), scale);
      return std::clamp(m, h.min, h.max);
    }
  }
  return h.max;
}

double histogram_count_le(const store::RollupHistogram& h, double t) {
  uint64_t n = histogram_count(h);
  if (n == 0) return 0;
  if (h.max <= t) return static_cast<double>(n);
  if (h.min > t) return 0;
  double le = t >= 0 ? static_cast<double>(h.zero_count) : 0;
  int32_t scale = clamp_scale(h.scale);
  for (size_t i = 0; i < h.counts.size(); ++i) {
    if (h.counts[i] == 0) continue;
    int64_t index = static_cast<int64_t>(h.offset) + static_cast<int64_t>(i);
    double upper = common::exp_lower_boundary(index + 1, scale);
    if (upper <= t || bucket_point(index, scale) <= t) le += static_cast<double>(h.counts[i]);
  }
  return le;
}

std::optional<double> apdex(const store::RollupHistogram& ok, uint64_t total, double t) {
  if (total == 0) return std::nullopt;
  double satisfied = histogram_count_le(ok, t);
  double tolerating = histogram_count_le(ok, 4 * t) - satisfied;
  return (satisfied + tolerating / 2) / static_cast<double>(total);
}

bool histogram_from_point(const store::MetricPointRow& p, store::RollupHistogram* out) {
  if (p.type != store::MetricPointRow::Type::kExponentialHistogram) return false;
  out->scale = p.scale;
  out->zero_count = p.zero_count;
  for (uint64_t c : p.negative_counts) out->zero_count += c;
  out->offset = p.positive_offset;
  out->counts = p.bucket_counts;
  out->sum = p.sum;
  out->min = p.min;
  out->max = p.max;
  return true;
}

}  // namespace pyrometer::server::query
