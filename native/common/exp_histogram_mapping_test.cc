// Tests for the exponential histogram's bucket mapping: exact indices at
// boundaries, nesting of scales, agreement with the OpenTelemetry SDK's table.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "common/exp_histogram.h"

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

// The table path (scales 1..kExpTableMaxScale) against the log2 path it is
// built from: at every edge of every table scale (the double nearest it and
// both neighbours, in octaves across the range), at slice starts, and at
// random values.
TEST(ExpMappingTest, TablesAgreeWithTheLog2Path) {
  std::mt19937_64 rng(5);
  std::uniform_int_distribution<uint64_t> mantissa(1, (uint64_t{1} << 52) - 1);
  for (int32_t s = 1; s <= kExpTableMaxScale; ++s) {
    for (int e : {-1022, -30, -1, 0, 1, 17, 1023}) {
      for (int64_t j = 0; j <= (int64_t{1} << s); ++j) {
        const double b = std::ldexp(exp_lower_boundary(j, s), e);
        for (double v : {std::nextafter(b, 0.0), b, std::nextafter(b, kInf)}) {
          if (!(v > 0) || std::isinf(v)) continue;
          ASSERT_EQ(exp_map_to_index(v, s), exp_map_to_index_by_log(v, s))
              << "s=" << s << " e=" << e << " j=" << j << " v=" << v;
        }
      }
      for (int64_t k = 1; k < (int64_t{2} << s); ++k) {
        const double v = std::ldexp(1.0 + std::ldexp(static_cast<double>(k), -(s + 1)), e);
        ASSERT_EQ(exp_map_to_index(v, s), exp_map_to_index_by_log(v, s)) << "s=" << s << " v=" << v;
      }
    }
    for (int k = 0; k < 20000; ++k) {
      const int e = static_cast<int>(rng() % 2046) - 1022;
      const double v = std::ldexp(1.0 + std::ldexp(static_cast<double>(mantissa(rng)), -52), e);
      ASSERT_EQ(exp_map_to_index(v, s), exp_map_to_index_by_log(v, s)) << "s=" << s << " v=" << v;
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

}  // namespace
}  // namespace pyrometer::common
