// Exponential histogram: the OpenTelemetry / Prometheus native-histogram
// bucket scheme, with auto down-scaling, merge, quantiles and OTLP export.
// The format and the error bound are documented in docs/format/exp-histogram.md.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "common/otlp_model.h"
#include "common/status.h"

namespace pyrometer::common {

// ---- bucket mapping ---------------------------------------------------------
//
// At scale s, base = 2^(2^-s) and bucket i holds the magnitudes v with
//   base^i < v <= base^(i+1)          (upper-inclusive, as OTLP specifies).
// Scale s and s-1 nest: bucket i at scale s lies inside bucket i>>1 at s-1.
//
// Exactness: for s <= 0 the index comes from the binary exponent, so it is
// exact. For s > 0 it comes from log2 of the significand scaled by 2^s (a
// power of two, so the scaling is exact); when that lies within 2^(s-40) of
// an integer, v is compared with the double nearest the real edge b^i, and
// when v equals that double the side is decided in long double. So powers of
// two (the only representable edges) are exact, every other v lands in the
// bucket of the real, irrational edges (agreeing with the OTel SDKs, checked
// against their reference values), barring an edge within ~2^-11 ulp of a
// double. exp_lower_boundary(i) <= v <= exp_lower_boundary(i + 1) always holds.
//
// Values below the smallest normal double (2^-1022, i.e. subnormals) are
// mapped as if they were 2^-1022.
inline constexpr int32_t kExpHistogramMaxScale = 20;
inline constexpr int32_t kExpHistogramMinScale = -10;

// Bucket index of v at `scale`. Preconditions: v > 0 and finite;
// kExpHistogramMinScale <= scale <= kExpHistogramMaxScale. Scales 1 to
// kExpTableMaxScale look the significand up in per-scale tables (built on
// first use, ~24 KiB in all); the others use the binary exponent (s <= 0) or
// log2 (exp_map_to_index_by_log). Same result either way.
int32_t exp_map_to_index(double v, int32_t scale);
inline constexpr int32_t kExpTableMaxScale = 10;

// exp_map_to_index computed through log2 at any scale > 0 (and through the
// exponent at s <= 0): the reference the tables are built from and tested
// against.
int32_t exp_map_to_index_by_log(double v, int32_t scale);

// base^index at `scale`, i.e. the exclusive lower edge of bucket `index` (and
// the inclusive upper edge of bucket index-1). +inf past DBL_MAX, 0 below the
// smallest subnormal.
double exp_lower_boundary(int64_t index, int32_t scale);

// The worst-case relative error of ExpHistogram::quantile() at `scale` for a
// value in a non-zero bucket: (base-1)/(base+1), base = 2^(2^-scale).
double exp_relative_error_bound(int32_t scale);

// One sign's buckets: a window of at most max_buckets consecutive indices kept
// in a circular array (power-of-two capacity, so the slot is a mask, not a
// division). Allocated on first use; never again until clear() frees nothing.
class ExpBuckets {
 public:
  bool empty() const { return empty_; }
  // Lowest and highest index with a count (inclusive). Valid when !empty().
  int32_t start() const { return start_; }
  int32_t end() const { return end_; }
  // The count of bucket `index`; 0 outside [start(), end()].
  uint64_t at(int32_t index) const;
  uint64_t total() const;

 private:
  friend class ExpHistogram;
  size_t slot(int32_t index) const {
    return static_cast<size_t>(static_cast<int64_t>(index) - base_) & mask_;
  }
  // Precondition: the resulting window spans at most the capacity.
  void increment(int32_t index, uint64_t n, uint32_t max_buckets);
  // Merges every 2^change adjacent buckets (index >> change).
  void downscale(int change);
  // Removes bucket start() and returns its count.
  uint64_t pop_front();
  void clear();

  std::vector<uint64_t> counts_;  // capacity = next power of two >= max_buckets
  size_t mask_ = 0;
  int32_t start_ = 0, end_ = 0, base_ = 0;
  bool empty_ = true;
};

// ---- the histogram ----------------------------------------------------------
//
// Records doubles (latencies in seconds, sizes in bytes, any sign). Starts at
// max_scale and halves the resolution (scale - 1, merging bucket pairs)
// whenever a value would make either sign's buckets span more than max_buckets
// indices, as the OTel SDKs do. So it adapts to the data's range without
// configuration, with relative error exp_relative_error_bound(scale()).
//
// Non-finite values (NaN, +-inf) are not recorded: they are counted in
// non_finite_count() only, and count/sum/min/max ignore them (OTLP cannot
// represent them in buckets, and one would poison sum).
//
// Not thread-safe: the caller serialises access (the agent keeps one per
// aggregation key behind its own lock or per thread). record() allocates only
// the first time a sign gets a value (one array of 256 counters).
class ExpHistogram {
 public:
  struct Options {
    int32_t max_scale = kExpHistogramMaxScale;  // clamped to [min, max] scale
    uint32_t max_buckets = 160;                 // per sign; clamped to [2, 16384]
    double zero_threshold = 0.0;                // |v| <= this counts as zero; >= 0
  };

  ExpHistogram() : ExpHistogram(Options{}) {}
  explicit ExpHistogram(const Options& options);

  void record(double v);

  // Adds `other` into this one: the result is what recording both value sets
  // into one histogram would give (same scale, same buckets; sum may differ in
  // the last bits by floating-point addition order). The result's scale is
  // the lower of the two, lowered further if the union needs more than
  // max_buckets. With different zero thresholds the larger one wins and
  // buckets wholly at or below it move into the zero count.
  void merge(const ExpHistogram& other);

  // Empties the histogram and returns to max_scale (each delta period adapts
  // afresh). Keeps the bucket arrays: no allocation on the next record().
  void clear();

  // Nearest-rank quantile estimate: with n = count(), the target is the
  // value of rank r = max(1, ceil(q * n)) in ascending order. q = rank 1 gives
  // min() and rank n gives max() exactly; otherwise the estimate is the point
  //   m = 2*L*U / (L + U)   of the bucket (L, U] that holds rank r,
  // clamped to [min(), max()] (negated for negative buckets; 0 for the zero
  // bucket). For any x in (L, U]:  |m - x| / x <= (U - L) / (U + L)
  // = (base - 1) / (base + 1), with equality at both edges — the smallest
  // worst-case relative error of any point estimate in the bucket (the
  // geometric midpoint sqrt(L*U) would give sqrt(base) - 1, a little more).
  // ≈ ln(2) * 2^-(scale+1): 4.3% at scale 3, 0.14% at scale 8.
  // nullopt if empty or q is not within [0, 1].
  std::optional<double> quantile(double q) const;

  uint64_t count() const { return count_; }
  double sum() const { return sum_; }
  bool has_sum() const { return has_sum_; }  // false only after from_otlp without sum
  double min() const { return min_; }        // +inf when empty
  double max() const { return max_; }        // -inf when empty
  int32_t scale() const { return scale_; }
  uint64_t zero_count() const { return zero_count_; }
  double zero_threshold() const { return zero_threshold_; }
  uint64_t non_finite_count() const { return non_finite_; }
  const ExpBuckets& positive() const { return positive_; }
  const ExpBuckets& negative() const { return negative_; }
  const Options& options() const { return options_; }
  double relative_error_bound() const { return exp_relative_error_bound(scale_); }

  // Fills the histogram fields of an OTLP data point (count, sum when no
  // negative values were recorded — the OTLP rule —, min/max when count > 0,
  // scale, zero_count, zero_threshold, positive/negative offset + counts).
  // Attributes, timestamps, flags and exemplars are left to the caller.
  void to_otlp(otlp::ExponentialHistogramDataPoint* out) const;

  // Rebuilds a histogram from an OTLP data point, downscaling to
  // options.max_scale / max_buckets if needed. InvalidArgument for a scale
  // outside [-10, 20], a negative or non-finite zero_threshold, an index
  // outside int32, or count != zero_count + all bucket counts. Without
  // min/max in the point they are taken from the outermost bucket edges.
  static Status from_otlp(const otlp::ExponentialHistogramDataPoint& point, ExpHistogram* out,
                          const Options& options);
  static Status from_otlp(const otlp::ExponentialHistogramDataPoint& point, ExpHistogram* out) {
    return from_otlp(point, out, Options{});
  }

 private:
  void downscale(int change);
  // How many halvings make [lo, hi] fit in max_buckets.
  int change_needed(int64_t lo, int64_t hi) const;
  void fold_below_zero_threshold();

  Options options_;
  int32_t scale_;
  double zero_threshold_;
  uint64_t count_ = 0;
  uint64_t zero_count_ = 0;
  uint64_t non_finite_ = 0;
  double sum_ = 0;
  bool has_sum_ = true;
  double min_;
  double max_;
  ExpBuckets positive_;
  ExpBuckets negative_;
};

}  // namespace pyrometer::common
