// Tests for the exponential histogram: quantiles against exact order
// statistics, merge, downscale, zero/negative/non-finite values, OTLP.
// The bucket mapping itself is tested in exp_histogram_mapping_test.cc.
#include "common/exp_histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <vector>

namespace pyrometer::common {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// ---- histogram --------------------------------------------------------------

// Exact nearest-rank quantile of sorted data.
double exact_quantile(const std::vector<double>& sorted, double q) {
  const uint64_t n = sorted.size();
  uint64_t r = static_cast<uint64_t>(std::ceil(q * static_cast<double>(n)));
  r = std::clamp<uint64_t>(r, 1, n);
  return sorted[r - 1];
}

void check_quantiles(std::vector<double> data, const ExpHistogram::Options& opt = {}) {
  ExpHistogram h(opt);
  for (double v : data) h.record(v);
  std::sort(data.begin(), data.end());
  ASSERT_EQ(h.count(), data.size());
  EXPECT_EQ(h.min(), data.front());
  EXPECT_EQ(h.max(), data.back());
  const double bound = h.relative_error_bound();
  for (double q : {0.0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0}) {
    const double exact = exact_quantile(data, q);
    const auto est = h.quantile(q);
    ASSERT_TRUE(est);
    if (exact == 0.0) {
      EXPECT_EQ(*est, 0.0);
      continue;
    }
    const double rel = std::fabs(*est - exact) / std::fabs(exact);
    EXPECT_LE(rel, bound * (1 + 1e-9) + 1e-15)
        << "q=" << q << " exact=" << exact << " est=" << *est << " scale=" << h.scale();
  }
}

TEST(ExpHistogramTest, QuantilesUniform) {
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> d(0.0, 1.0);
  std::vector<double> v(100000);
  for (double& x : v) x = d(rng);
  check_quantiles(v);
}

TEST(ExpHistogramTest, QuantilesLognormalLatencies) {
  std::mt19937_64 rng(2);
  std::lognormal_distribution<double> d(std::log(0.05), 1.2);  // ~50 ms median
  std::vector<double> v(100000);
  for (double& x : v) x = d(rng);
  check_quantiles(v);
}

TEST(ExpHistogramTest, QuantilesHeavyTailPareto) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<double> v(100000);
  for (double& x : v) x = 0.001 / std::pow(1.0 - u(rng), 1.0 / 0.8);  // alpha 0.8: infinite mean
  check_quantiles(v);
}

TEST(ExpHistogramTest, QuantilesWithNegativesAndZeros) {
  std::mt19937_64 rng(4);
  std::normal_distribution<double> d(0.0, 100.0);
  std::vector<double> v(50000);
  for (size_t i = 0; i < v.size(); ++i) v[i] = (i % 10 == 0) ? 0.0 : d(rng);
  check_quantiles(v);
}

TEST(ExpHistogramTest, QuantilesAtHighResolutionWithFewBuckets) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> d(100.0, 101.0);  // narrow range: stays at a fine scale
  std::vector<double> v(20000);
  for (double& x : v) x = d(rng);
  ExpHistogram::Options opt;
  opt.max_buckets = 40;
  check_quantiles(v, opt);
}

TEST(ExpHistogramTest, StartsAtMaxScaleAndDownscalesToFit) {
  ExpHistogram h;
  h.record(1.5);
  EXPECT_EQ(h.scale(), 20);
  h.record(0.001);
  h.record(10.0);
  // 1 ms .. 10 s is 13.3 octaves: 160 buckets allow 8 per octave (scale 3).
  EXPECT_EQ(h.scale(), 3);
  EXPECT_LE(int64_t{h.positive().end()} - h.positive().start() + 1, 160);
}

// After any sequence of records, every bucket holds exactly the values that map
// to it at the final scale.
TEST(ExpHistogramTest, DownscaledBucketsEqualDirectMapping) {
  std::mt19937_64 rng(6);
  std::lognormal_distribution<double> d(0.0, 3.0);
  ExpHistogram::Options opt;
  opt.max_buckets = 20;
  ExpHistogram h(opt);
  std::vector<double> values;
  for (int i = 0; i < 20000; ++i) {
    double v = d(rng) * ((i % 3 == 0) ? -1 : 1);
    values.push_back(v);
    h.record(v);
  }
  std::map<int32_t, uint64_t> pos, neg;
  for (double v : values) (v > 0 ? pos : neg)[exp_map_to_index(std::fabs(v), h.scale())]++;
  for (auto& [i, c] : pos) EXPECT_EQ(h.positive().at(i), c) << i;
  for (auto& [i, c] : neg) EXPECT_EQ(h.negative().at(i), c) << i;
  EXPECT_EQ(h.positive().total() + h.negative().total(), values.size());
  EXPECT_EQ(h.positive().start(), pos.begin()->first);
  EXPECT_EQ(h.positive().end(), pos.rbegin()->first);
  EXPECT_LE(int64_t{h.positive().end()} - h.positive().start() + 1, 20);
  // And one scale finer would not have fit (downscale only when needed).
  const int32_t fine = h.scale() + 1;
  int32_t lo = INT32_MAX, hi = INT32_MIN, nlo = INT32_MAX, nhi = INT32_MIN;
  for (double v : values) {
    const int32_t i = exp_map_to_index(std::fabs(v), fine);
    if (v > 0) {
      lo = std::min(lo, i);
      hi = std::max(hi, i);
    } else {
      nlo = std::min(nlo, i);
      nhi = std::max(nhi, i);
    }
  }
  EXPECT_TRUE(int64_t{hi} - lo + 1 > 20 || int64_t{nhi} - nlo + 1 > 20);
}

void expect_same(const ExpHistogram& a, const ExpHistogram& b) {
  otlp::ExponentialHistogramDataPoint pa, pb;
  a.to_otlp(&pa);
  b.to_otlp(&pb);
  EXPECT_EQ(pa.scale, pb.scale);
  EXPECT_EQ(pa.count, pb.count);
  EXPECT_EQ(pa.zero_count, pb.zero_count);
  EXPECT_EQ(pa.positive.offset, pb.positive.offset);
  EXPECT_EQ(pa.positive.bucket_counts, pb.positive.bucket_counts);
  EXPECT_EQ(pa.negative.offset, pb.negative.offset);
  EXPECT_EQ(pa.negative.bucket_counts, pb.negative.bucket_counts);
  EXPECT_EQ(pa.min, pb.min);
  EXPECT_EQ(pa.max, pb.max);
  EXPECT_EQ(pa.has_sum, pb.has_sum);
  EXPECT_NEAR(pa.sum, pb.sum, 1e-9 * std::max(1.0, std::fabs(pb.sum)));
}

TEST(ExpHistogramTest, MergeEqualsRecordingEverythingIntoOne) {
  std::mt19937_64 rng(8);
  std::lognormal_distribution<double> narrow(0.0, 0.1), wide(0.0, 4.0);
  for (int round = 0; round < 20; ++round) {
    ExpHistogram a, b, all;
    for (int i = 0; i < 2000; ++i) {
      double x = narrow(rng) * (i % 5 == 0 ? -1 : 1);
      a.record(x);
      all.record(x);
      double y = wide(rng) * (i % 7 == 0 ? -1 : 1);
      if (i % 11 == 0) y = 0.0;
      b.record(y);
      all.record(y);
    }
    ExpHistogram ab = a;
    ab.merge(b);
    expect_same(ab, all);
    ExpHistogram ba = b;
    ba.merge(a);
    expect_same(ba, all);
  }
}

TEST(ExpHistogramTest, MergeWithEmptyAndSelf) {
  ExpHistogram a, empty;
  a.record(3.0);
  a.record(-2.0);
  ExpHistogram before = a;
  a.merge(empty);
  expect_same(a, before);
  empty.merge(a);
  expect_same(empty, a);
  a.merge(a);
  EXPECT_EQ(a.count(), 4u);
  EXPECT_EQ(a.positive().total(), 2u);
  EXPECT_EQ(a.negative().total(), 2u);
}

TEST(ExpHistogramTest, ZeroNegativeAndNonFinite) {
  ExpHistogram h;
  h.record(0.0);
  h.record(-0.0);
  h.record(-4.0);
  h.record(std::nan(""));
  h.record(kInf);
  h.record(-kInf);
  EXPECT_EQ(h.count(), 3u);
  EXPECT_EQ(h.zero_count(), 2u);
  EXPECT_EQ(h.non_finite_count(), 3u);
  EXPECT_EQ(h.sum(), -4.0);
  EXPECT_EQ(h.min(), -4.0);
  EXPECT_EQ(h.max(), 0.0);
  EXPECT_EQ(h.negative().at(exp_map_to_index(4.0, h.scale())), 1u);
  EXPECT_TRUE(h.positive().empty());
  otlp::ExponentialHistogramDataPoint p;
  h.to_otlp(&p);
  EXPECT_FALSE(p.has_sum);  // OTLP: no sum when negative values were recorded
  EXPECT_EQ(p.count, 3u);
}

TEST(ExpHistogramTest, HugeAndTinyValuesTogether) {
  ExpHistogram h;
  h.record(DBL_MAX);
  h.record(std::numeric_limits<double>::denorm_min());
  h.record(1.0);
  EXPECT_EQ(h.count(), 3u);
  EXPECT_LE(int64_t{h.positive().end()} - h.positive().start() + 1, 160);
  EXPECT_EQ(*h.quantile(0.0), std::numeric_limits<double>::denorm_min());
  EXPECT_EQ(*h.quantile(1.0), DBL_MAX);
  const double mid = *h.quantile(0.5);
  EXPECT_LE(std::fabs(mid - 1.0), h.relative_error_bound());
}

// Regression (found by the fuzzer): 2*L overflowed for buckets near DBL_MAX,
// so the estimate became infinite and clamped to the wrong end.
TEST(ExpHistogramTest, QuantilesNearDblMaxStayMonotone) {
  ExpHistogram h;
  for (double v : {-DBL_MAX, -DBL_MAX, -0x1.fffffffffffcp+1023, -0x1.fff003400a9fcp+1023,
                   0x1.008000000a9ffp-1011, 0x1.008000000a9ffp-1011}) {
    h.record(v);
  }
  double prev = -kInf;
  for (double q = 0; q <= 1.0; q += 0.125) {
    const double est = *h.quantile(q);
    EXPECT_GE(est, prev) << q;
    EXPECT_TRUE(std::isfinite(est));
    prev = est;
  }
  EXPECT_LT(*h.quantile(0.625), -0x1.ff0p+1023);
  EXPECT_GT(*h.quantile(0.625), -DBL_MAX);
}

TEST(ExpHistogramTest, QuantileEdgeCases) {
  ExpHistogram h;
  EXPECT_FALSE(h.quantile(0.5));
  h.record(5.0);
  EXPECT_EQ(*h.quantile(0.5), 5.0);
  EXPECT_FALSE(h.quantile(-0.1));
  EXPECT_FALSE(h.quantile(1.1));
  EXPECT_FALSE(h.quantile(std::nan("")));
}

TEST(ExpHistogramTest, ClearResetsScaleAndKeepsWorking) {
  ExpHistogram h;
  h.record(1e-6);
  h.record(1e6);
  EXPECT_LT(h.scale(), 20);
  h.clear();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.scale(), 20);
  EXPECT_TRUE(h.positive().empty());
  EXPECT_EQ(h.min(), kInf);
  h.record(2.0);
  EXPECT_EQ(h.count(), 1u);
  EXPECT_EQ(h.positive().at(exp_map_to_index(2.0, 20)), 1u);
  EXPECT_EQ(h.positive().total(), 1u);
}

TEST(ExpHistogramTest, ZeroThresholdAndMergeFolding) {
  ExpHistogram::Options opt;
  opt.zero_threshold = 0.01;
  ExpHistogram a(opt);
  a.record(0.005);
  a.record(-0.01);
  a.record(1.0);
  EXPECT_EQ(a.zero_count(), 2u);
  ExpHistogram b;  // threshold 0
  b.record(0.001);
  b.record(0.5);
  a.merge(b);
  EXPECT_EQ(a.zero_threshold(), 0.01);
  EXPECT_EQ(a.zero_count(), 3u);  // 0.001 folded into the zero bucket
  EXPECT_EQ(a.positive().total(), 2u);
  EXPECT_EQ(a.count(), 5u);
}

TEST(ExpHistogramTest, OtlpRoundTrip) {
  std::mt19937_64 rng(9);
  std::lognormal_distribution<double> d(0.0, 2.0);
  ExpHistogram h;
  for (int i = 0; i < 5000; ++i) h.record(d(rng) * (i % 4 == 0 ? -1 : 1));
  h.record(0.0);
  otlp::ExponentialHistogramDataPoint p;
  h.to_otlp(&p);
  EXPECT_EQ(p.scale, h.scale());
  EXPECT_EQ(p.positive.offset, h.positive().start());
  ExpHistogram back;
  ASSERT_TRUE(ExpHistogram::from_otlp(p, &back).ok());
  expect_same(back, h);
  EXPECT_EQ(*back.quantile(0.9), *h.quantile(0.9));
}

TEST(ExpHistogramTest, FromOtlpDownscalesToOptions) {
  otlp::ExponentialHistogramDataPoint p;
  p.scale = 20;
  p.count = 6;
  p.has_sum = true;
  p.sum = 10;
  p.positive.offset = 1000;
  p.positive.bucket_counts = {1, 2, 0, 3};
  ExpHistogram::Options opt;
  opt.max_scale = 18;
  ExpHistogram h;
  ASSERT_TRUE(ExpHistogram::from_otlp(p, &h, opt).ok());
  EXPECT_EQ(h.scale(), 18);
  EXPECT_EQ(h.positive().at(250), 6u);  // 1000..1003 >> 2 = 250
  EXPECT_EQ(h.count(), 6u);
  // No min/max in the point: the outer bucket edges stand in.
  EXPECT_EQ(h.min(), exp_lower_boundary(250, 18));
  EXPECT_EQ(h.max(), exp_lower_boundary(251, 18));

  opt.max_scale = 20;
  opt.max_buckets = 2;
  ASSERT_TRUE(ExpHistogram::from_otlp(p, &h, opt).ok());
  EXPECT_EQ(h.scale(), 19);  // 1000..1003 spans 4; one halving gives 500..501
  EXPECT_EQ(h.positive().at(500), 3u);
  EXPECT_EQ(h.positive().at(501), 3u);
}

TEST(ExpHistogramTest, FromOtlpIgnoresZeroCountsAtTheEdges) {
  otlp::ExponentialHistogramDataPoint p;
  p.scale = 20;
  p.count = 2;
  p.positive.offset = 0;
  p.positive.bucket_counts.assign(1000, 0);  // wide, but only two buckets occupied
  p.positive.bucket_counts[500] = 1;
  p.positive.bucket_counts[501] = 1;
  ExpHistogram h;
  ASSERT_TRUE(ExpHistogram::from_otlp(p, &h).ok());
  EXPECT_EQ(h.scale(), 20);  // no needless downscale
  EXPECT_EQ(h.positive().start(), 500);
  EXPECT_EQ(h.positive().end(), 501);
}

TEST(ExpHistogramTest, FromOtlpRejectsInvalidPoints) {
  ExpHistogram h;
  otlp::ExponentialHistogramDataPoint p;
  p.scale = 21;
  EXPECT_EQ(ExpHistogram::from_otlp(p, &h).code(), Status::Code::kInvalidArgument);
  p.scale = -11;
  EXPECT_FALSE(ExpHistogram::from_otlp(p, &h).ok());
  p.scale = 0;
  p.count = 3;
  p.positive.bucket_counts = {1, 1};
  EXPECT_FALSE(ExpHistogram::from_otlp(p, &h).ok());  // count mismatch
  p.count = 2;
  p.zero_threshold = -1;
  EXPECT_FALSE(ExpHistogram::from_otlp(p, &h).ok());
  p.zero_threshold = 0;
  p.positive.offset = std::numeric_limits<int32_t>::max();
  EXPECT_FALSE(ExpHistogram::from_otlp(p, &h).ok());  // index overflow
  p.scale = -10;
  p.positive.offset = -100000;  // no double maps there at scale -10
  EXPECT_FALSE(ExpHistogram::from_otlp(p, &h).ok());
  p.positive.offset = 0;  // bucket 1 at scale -10 starts at 2^1024: no double there
  EXPECT_FALSE(ExpHistogram::from_otlp(p, &h).ok());
  p.positive.offset = -1;  // (2^-1024, 1] and (1, 2^1024]: valid
  EXPECT_TRUE(ExpHistogram::from_otlp(p, &h).ok());
}

}  // namespace
}  // namespace pyrometer::common
