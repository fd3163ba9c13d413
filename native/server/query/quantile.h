// Quantiles, threshold counts and Apdex from the store's base-2 exponential
// histograms (rollups and OTLP exponential-histogram metric points).
#pragma once

#include <optional>

#include "server/store/store.h"

namespace pyrometer::server::query {

// Total count (zero bucket + positive buckets).
uint64_t histogram_count(const store::RollupHistogram& h);

// Nearest-rank quantile q in [0, 1], as common::ExpHistogram::quantile():
// rank 1 is min, rank n is max, otherwise the point 2LU/(L+U) of the bucket
// (L, U] holding the rank, clamped to [min, max]. Relative error at most
// common::exp_relative_error_bound(h.scale) (4.4% at the rollups' scale 3;
// docs/format/exp-histogram.md). nullopt when empty or q outside [0, 1].
std::optional<double> histogram_quantile(const store::RollupHistogram& h, double q);

// Estimated number of values <= t: buckets wholly at or below t count fully,
// a bucket straddling t counts when its estimate point 2LU/(L+U) <= t (the
// same estimate the quantiles use, so "p95 <= T" and "95% within T" agree).
double histogram_count_le(const store::RollupHistogram& h, double t);

// Apdex with threshold t seconds: (satisfied + tolerating / 2) / total, where
// satisfied = successful requests <= t and tolerating = t < successful <= 4t,
// both counted in `ok` (the histogram of successful requests only); failed
// requests are frustrated whatever their latency. nullopt when total is 0.
std::optional<double> apdex(const store::RollupHistogram& ok, uint64_t total, double t);

// Converts an exponential-histogram metric point (seconds) to a RollupHistogram
// (negative buckets fold into the zero count). False for other point types.
bool histogram_from_point(const store::MetricPointRow& p, store::RollupHistogram* out);

}  // namespace pyrometer::server::query
