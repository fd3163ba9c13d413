// Tests for rollup-histogram quantiles, threshold counts and Apdex against
// values computed exactly from the recorded samples.
#include "server/query/quantile.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "common/exp_histogram.h"
#include "server/store/rollup.h"

namespace pyrometer::server::query {
namespace {

store::RollupHistogram record_all(const std::vector<double>& xs) {
  store::RollupHistogram h;
  for (double x : xs) store::histogram_record(&h, x, 1);
  return h;
}

double exact_quantile(std::vector<double> xs, double q) {
  std::sort(xs.begin(), xs.end());
  size_t rank = std::max<size_t>(1, static_cast<size_t>(std::ceil(q * xs.size())));
  return xs[rank - 1];
}

TEST(Quantile, WithinTheDocumentedRelativeError) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> d(-3, 1);
  std::vector<double> xs(5000);
  for (auto& x : xs) x = d(rng);
  store::RollupHistogram h = record_all(xs);
  double bound = common::exp_relative_error_bound(h.scale);
  for (double q : {0.0, 0.01, 0.5, 0.9, 0.95, 0.99, 1.0}) {
    double want = exact_quantile(xs, q);
    auto got = histogram_quantile(h, q);
    ASSERT_TRUE(got.has_value());
    EXPECT_LE(std::abs(*got - want) / want, bound + 1e-12) << "q=" << q;
  }
  EXPECT_EQ(*histogram_quantile(h, 0), *std::min_element(xs.begin(), xs.end()));
  EXPECT_EQ(*histogram_quantile(h, 1), *std::max_element(xs.begin(), xs.end()));
  EXPECT_FALSE(histogram_quantile(store::RollupHistogram{}, 0.5).has_value());
  EXPECT_FALSE(histogram_quantile(h, 1.5).has_value());
}

TEST(Quantile, AgreesWithCommonExpHistogram) {
  std::vector<double> xs;
  for (int i = 1; i <= 1000; ++i) xs.push_back(i * 0.0013);
  store::RollupHistogram h = record_all(xs);
  common::ExpHistogram::Options o;
  o.max_scale = h.scale;
  common::ExpHistogram e(o);
  for (double x : xs) e.record(x);
  ASSERT_EQ(e.scale(), h.scale);
  for (double q : {0.25, 0.5, 0.75, 0.99}) {
    EXPECT_DOUBLE_EQ(*histogram_quantile(h, q), *e.quantile(q)) << q;
  }
}

TEST(Quantile, ApdexCountsSatisfiedToleratingAndFailures) {
  // 60 fast (<= T), 30 tolerable (T..4T), 10 slow; T = 0.5 s.
  std::vector<double> ok;
  for (int i = 0; i < 60; ++i) ok.push_back(0.1);
  for (int i = 0; i < 30; ++i) ok.push_back(1.0);
  for (int i = 0; i < 10; ++i) ok.push_back(5.0);
  store::RollupHistogram h = record_all(ok);
  EXPECT_DOUBLE_EQ(histogram_count_le(h, 0.5), 60);
  EXPECT_DOUBLE_EQ(*apdex(h, 100, 0.5), (60 + 15) / 100.0);
  // 20 more requests that failed: frustrated whatever their latency.
  EXPECT_DOUBLE_EQ(*apdex(h, 120, 0.5), (60 + 15) / 120.0);
  EXPECT_FALSE(apdex(store::RollupHistogram{}, 0, 0.5).has_value());
}

}  // namespace
}  // namespace pyrometer::server::query
