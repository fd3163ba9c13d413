// Tests for the exponential histogram: exact mapping at boundaries, nesting of
// scales, quantiles against exact order statistics, merge, downscale, OTLP.
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

TEST(ExpMappingTest, PowersOfTwoAreUpperInclusive) {
  for (int32_t s = kExpHistogramMinScale; s <= kExpHistogramMaxScale; ++s) {
    EXPECT_EQ(exp_map_to_index(1.0, s), -1) << s;  // 1 = base^0 closes bucket -1
    for (int e = -1022; e <= 1023; e += 7) {
      const double v = std::ldexp(1.0, e);
      const int32_t i = exp_map_to_index(v, s);
      // v is the inclusive upper edge of bucket i: base^(i+1) == v exactly.
      if (s >= 0) {
        EXPECT_EQ(int64_t{i}, (int64_t{e} << s) - 1) << "s=" << s << " e=" << e;
      } else {
        EXPECT_EQ(int64_t{i}, (int64_t{e} - 1) >> -s) << "s=" << s << " e=" << e;
      }
      EXPECT_EQ(exp_map_to_index(std::nextafter(v, kInf), s), s >= 0 ? i + 1 : (e >> -s));
    }
  }
}

TEST(ExpMappingTest, ScaleZeroAndNegativeExamples) {
  EXPECT_EQ(exp_map_to_index(2.0, 0), 0);  // (1, 2]
  EXPECT_EQ(exp_map_to_index(3.0, 0), 1);  // (2, 4]
  EXPECT_EQ(exp_map_to_index(4.0, 0), 1);
  EXPECT_EQ(exp_map_to_index(4.0, -1), 0);  // base 4: (1, 4]
  EXPECT_EQ(exp_map_to_index(5.0, -1), 1);  // (4, 16]
  EXPECT_EQ(exp_map_to_index(0.5, 0), -2);  // (0.25, 0.5]
  EXPECT_EQ(exp_map_to_index(1.5, 1), 1);   // base sqrt2: (1.414, 2]
  EXPECT_EQ(exp_map_to_index(1.4, 1), 0);   // (1, 1.414]
  EXPECT_DOUBLE_EQ(exp_lower_boundary(1, 1), std::sqrt(2.0));
  EXPECT_EQ(exp_lower_boundary(3, 0), 8.0);
  EXPECT_EQ(exp_lower_boundary(-2, -1), 1.0 / 16);
}

// For every v: lower_boundary(i) <= v <= lower_boundary(i+1), i = map(v).
// (lower_boundary returns the double nearest the real edge b^i; v may equal it
// and still lie above the real edge, hence <= on the left.)
TEST(ExpMappingTest, IndexAgreesWithBoundariesForRandomAndExtremeValues) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> exponent(-1022, 1023);
  std::vector<double> values = {DBL_MIN, DBL_MAX, 1e-300, 1e300, 1.0, 3.0, 0.1, 1e-9};
  for (int k = 0; k < 3000; ++k) values.push_back(std::exp2(exponent(rng)));
  for (int32_t s = kExpHistogramMinScale; s <= kExpHistogramMaxScale; ++s) {
    for (double v : values) {
      const int32_t i = exp_map_to_index(v, s);
      ASSERT_LE(exp_lower_boundary(i, s), v) << "s=" << s << " v=" << v;
      ASSERT_LE(v, exp_lower_boundary(int64_t{i} + 1, s)) << "s=" << s << " v=" << v;
    }
  }
}

// At the double B nearest a real edge b^i: the next double up is always in
// bucket i, the next down always in i-1, and B itself on the side of b^i it
// really is (b^i evaluated in long double here).
TEST(ExpMappingTest, BoundariesThemselvesMapExactly) {
  std::mt19937_64 rng(11);
  for (int32_t s : {1, 3, 8, 14, 20}) {
    std::uniform_int_distribution<int64_t> idx(-(int64_t{1000} << s), int64_t{1000} << s);
    for (int k = 0; k < 2000; ++k) {
      const int64_t i = idx(rng);
      const double b = exp_lower_boundary(i, s);
      ASSERT_EQ(exp_map_to_index(std::nextafter(b, kInf), s), i) << "s=" << s << " i=" << i;
      ASSERT_EQ(exp_map_to_index(std::nextafter(b, 0.0), s), i - 1) << "s=" << s << " i=" << i;
      const int64_t q = i >> s, r = i - (q << s);
      const long double real =
          std::ldexp(std::exp2(std::ldexp(static_cast<long double>(r), -s)), static_cast<int>(q));
      ASSERT_EQ(exp_map_to_index(b, s), real < b ? i : i - 1) << "s=" << s << " i=" << i;
    }
  }
}

TEST(ExpMappingTest, ScalesNest) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> exponent(-60, 60);
  for (int k = 0; k < 5000; ++k) {
    const double v = std::exp2(exponent(rng));
    for (int32_t s = kExpHistogramMaxScale; s > kExpHistogramMinScale; --s) {
      ASSERT_EQ(exp_map_to_index(v, s) >> 1, exp_map_to_index(v, s - 1)) << v << " s=" << s;
    }
  }
}

// Reference indices computed by the OpenTelemetry Python SDK (1.x)
// LogarithmMapping / ExponentMapping.map_to_index for the same inputs.
TEST(ExpMappingTest, AgreesWithOpenTelemetrySdkReference) {
  struct Ref {
    int32_t scale;
    double value;
    int32_t index;
  };
  static constexpr Ref kRefs[] = {
      {-10, 0x1.0000000000000p+0, -1},
      {-10, 0x1.8000000000000p+0, 0},
      {-10, 0x1.8000000000000p+1, 0},
      {-10, 0x1.0624dd2f1a9fcp-10, -1},
      {-10, 0x1.999999999999ap-5, -1},
      {-10, 0x1.f9add3739635fp-4, -1},
      {-10, 0x1.4000000000000p+3, 0},
      {-10, 0x1.56e1fc2f8f359p-997, -1},
      {-10, 0x1.7e43c8800759cp+996, 0},
      {-10, 0x1.0000000000000p-1022, -1},
      {-10, 0x1.fffffffffffffp+1023, 0},
      {-10, 0x1.6a09e667f3bcdp+0, 0},
      {-10, 0x1.172b83c7d517bp+0, 0},
      {-10, 0x1.92a737110e454p-21, -1},
      {-10, 0x1.5180000000000p+16, 0},
      {-4, 0x1.0000000000000p+0, -1},
      {-4, 0x1.8000000000000p+0, 0},
      {-4, 0x1.8000000000000p+1, 0},
      {-4, 0x1.0624dd2f1a9fcp-10, -1},
      {-4, 0x1.999999999999ap-5, -1},
      {-4, 0x1.f9add3739635fp-4, -1},
      {-4, 0x1.4000000000000p+3, 0},
      {-4, 0x1.56e1fc2f8f359p-997, -63},
      {-4, 0x1.7e43c8800759cp+996, 62},
      {-4, 0x1.0000000000000p-1022, -64},
      {-4, 0x1.fffffffffffffp+1023, 63},
      {-4, 0x1.6a09e667f3bcdp+0, 0},
      {-4, 0x1.172b83c7d517bp+0, 0},
      {-4, 0x1.92a737110e454p-21, -2},
      {-4, 0x1.5180000000000p+16, 1},
      {-1, 0x1.0000000000000p+0, -1},
      {-1, 0x1.8000000000000p+0, 0},
      {-1, 0x1.8000000000000p+1, 0},
      {-1, 0x1.0624dd2f1a9fcp-10, -5},
      {-1, 0x1.999999999999ap-5, -3},
      {-1, 0x1.f9add3739635fp-4, -2},
      {-1, 0x1.4000000000000p+3, 1},
      {-1, 0x1.56e1fc2f8f359p-997, -499},
      {-1, 0x1.7e43c8800759cp+996, 498},
      {-1, 0x1.0000000000000p-1022, -512},
      {-1, 0x1.fffffffffffffp+1023, 511},
      {-1, 0x1.6a09e667f3bcdp+0, 0},
      {-1, 0x1.172b83c7d517bp+0, 0},
      {-1, 0x1.92a737110e454p-21, -11},
      {-1, 0x1.5180000000000p+16, 8},
      {0, 0x1.0000000000000p+0, -1},
      {0, 0x1.8000000000000p+0, 0},
      {0, 0x1.8000000000000p+1, 1},
      {0, 0x1.0624dd2f1a9fcp-10, -10},
      {0, 0x1.999999999999ap-5, -5},
      {0, 0x1.f9add3739635fp-4, -4},
      {0, 0x1.4000000000000p+3, 3},
      {0, 0x1.56e1fc2f8f359p-997, -997},
      {0, 0x1.7e43c8800759cp+996, 996},
      {0, 0x1.0000000000000p-1022, -1023},
      {0, 0x1.fffffffffffffp+1023, 1023},
      {0, 0x1.6a09e667f3bcdp+0, 0},
      {0, 0x1.172b83c7d517bp+0, 0},
      {0, 0x1.92a737110e454p-21, -21},
      {0, 0x1.5180000000000p+16, 16},
      {1, 0x1.0000000000000p+0, -1},
      {1, 0x1.8000000000000p+0, 1},
      {1, 0x1.8000000000000p+1, 3},
      {1, 0x1.0624dd2f1a9fcp-10, -20},
      {1, 0x1.999999999999ap-5, -9},
      {1, 0x1.f9add3739635fp-4, -7},
      {1, 0x1.4000000000000p+3, 6},
      {1, 0x1.56e1fc2f8f359p-997, -1994},
      {1, 0x1.7e43c8800759cp+996, 1993},
      {1, 0x1.0000000000000p-1022, -2045},
      {1, 0x1.fffffffffffffp+1023, 2047},
      {1, 0x1.6a09e667f3bcdp+0, 1},
      {1, 0x1.172b83c7d517bp+0, 0},
      {1, 0x1.92a737110e454p-21, -41},
      {1, 0x1.5180000000000p+16, 32},
      {3, 0x1.0000000000000p+0, -1},
      {3, 0x1.8000000000000p+0, 4},
      {3, 0x1.8000000000000p+1, 12},
      {3, 0x1.0624dd2f1a9fcp-10, -80},
      {3, 0x1.999999999999ap-5, -35},
      {3, 0x1.f9add3739635fp-4, -25},
      {3, 0x1.4000000000000p+3, 26},
      {3, 0x1.56e1fc2f8f359p-997, -7973},
      {3, 0x1.7e43c8800759cp+996, 7972},
      {3, 0x1.0000000000000p-1022, -8177},
      {3, 0x1.fffffffffffffp+1023, 8191},
      {3, 0x1.6a09e667f3bcdp+0, 4},
      {3, 0x1.172b83c7d517bp+0, 1},
      {3, 0x1.92a737110e454p-21, -163},
      {3, 0x1.5180000000000p+16, 131},
      {8, 0x1.0000000000000p+0, -1},
      {8, 0x1.8000000000000p+0, 149},
      {8, 0x1.8000000000000p+1, 405},
      {8, 0x1.0624dd2f1a9fcp-10, -2552},
      {8, 0x1.999999999999ap-5, -1107},
      {8, 0x1.f9add3739635fp-4, -773},
      {8, 0x1.4000000000000p+3, 850},
      {8, 0x1.56e1fc2f8f359p-997, -255125},
      {8, 0x1.7e43c8800759cp+996, 255124},
      {8, 0x1.0000000000000p-1022, -261633},
      {8, 0x1.fffffffffffffp+1023, 262143},
      {8, 0x1.6a09e667f3bcdp+0, 128},
      {8, 0x1.172b83c7d517bp+0, 32},
      {8, 0x1.92a737110e454p-21, -5209},
      {8, 0x1.5180000000000p+16, 4198},
      {14, 0x1.0000000000000p+0, -1},
      {14, 0x1.8000000000000p+0, 9584},
      {14, 0x1.8000000000000p+1, 25968},
      {14, 0x1.0624dd2f1a9fcp-10, -163280},
      {14, 0x1.999999999999ap-5, -70811},
      {14, 0x1.f9add3739635fp-4, -49446},
      {14, 0x1.4000000000000p+3, 54426},
      {14, 0x1.56e1fc2f8f359p-997, -16327941},
      {14, 0x1.7e43c8800759cp+996, 16327940},
      {14, 0x1.0000000000000p-1022, -16744449},
      {14, 0x1.fffffffffffffp+1023, 16777215},
      {14, 0x1.6a09e667f3bcdp+0, 8192},
      {14, 0x1.172b83c7d517bp+0, 2048},
      {14, 0x1.92a737110e454p-21, -333359},
      {14, 0x1.5180000000000p+16, 268677},
      {20, 0x1.0000000000000p+0, -1},
      {20, 0x1.8000000000000p+0, 613377},
      {20, 0x1.8000000000000p+1, 1661953},
      {20, 0x1.0624dd2f1a9fcp-10, -10449883},
      {20, 0x1.999999999999ap-5, -4531871},
      {20, 0x1.f9add3739635fp-4, -3164521},
      {20, 0x1.4000000000000p+3, 3483294},
      {20, 0x1.56e1fc2f8f359p-997, -1044988223},
      {20, 0x1.7e43c8800759cp+996, 1044988222},
      {20, 0x1.0000000000000p-1022, -1071644673},
      {20, 0x1.fffffffffffffp+1023, 1073741823},
      {20, 0x1.6a09e667f3bcdp+0, 524288},
      {20, 0x1.172b83c7d517bp+0, 131072},
      {20, 0x1.92a737110e454p-21, -21334963},
      {20, 0x1.5180000000000p+16, 17195329},
  };
  for (const Ref& r : kRefs) {
    EXPECT_EQ(exp_map_to_index(r.value, r.scale), r.index)
        << "scale=" << r.scale << " v=" << r.value;
  }
}

TEST(ExpMappingTest, SubnormalsShareTheLowestNormalBucket) {
  const double tiny = std::numeric_limits<double>::denorm_min();
  for (int32_t s : {-10, 0, 5, 20}) {
    EXPECT_EQ(exp_map_to_index(tiny, s), exp_map_to_index(DBL_MIN, s));
  }
}

TEST(ExpMappingTest, ErrorBoundFormula) {
  EXPECT_NEAR(exp_relative_error_bound(0), 1.0 / 3.0, 1e-15);  // base 2
  const double b3 = std::exp2(1.0 / 8);
  EXPECT_NEAR(exp_relative_error_bound(3), (b3 - 1) / (b3 + 1), 1e-15);
  EXPECT_NEAR(exp_relative_error_bound(20), M_LN2 * std::ldexp(1.0, -21), 1e-12);
}

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
