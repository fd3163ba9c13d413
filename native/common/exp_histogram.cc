// Exponential histogram: exact index mapping, circular bucket windows with
// in-place down-scaling, merge, quantile estimation and OTLP conversion.
#include "common/exp_histogram.h"

#include <algorithm>
#include <bit>
#include <cfloat>
#include <cmath>
#include <limits>
#include <vector>

namespace pyrometer::common {

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
}  // namespace

// ---- mapping ----------------------------------------------------------------

namespace {
// Whether the real number b^index (scale > 0, irrational unless a power of
// two) lies below v, decided in long double (64-bit significand on x86-64):
// correct unless b^index is within about 2^-11 ulp of v.
[[gnu::noinline]] bool real_boundary_below(int64_t index, int32_t scale, double v) {
  const int64_t q = index >> scale;
  const int64_t r = index - (q << scale);
  const long double b =
      std::ldexp(std::exp2(std::ldexp(static_cast<long double>(r), -scale)), static_cast<int>(q));
  return b < static_cast<long double>(v);
}
}  // namespace

[[gnu::noinline]] int32_t exp_map_to_index_by_log(double v, int32_t scale) {
  if (v < DBL_MIN) v = DBL_MIN;  // subnormals share the lowest normal bucket
  // Read the binary exponent and significand from the bits (v is normal and
  // positive here): v = 2^exp2 * sig, sig in [1, 2). Cheaper than frexp.
  const uint64_t bits = std::bit_cast<uint64_t>(v);
  const int64_t exp2 = static_cast<int64_t>(bits >> 52) - 1023;
  const uint64_t mantissa = bits & ((uint64_t{1} << 52) - 1);
  if (scale <= 0) {
    // Bucket i at scale -k covers (2^(i*2^k), 2^((i+1)*2^k)]. A power of two
    // is the upper (inclusive) edge of the bucket below its exponent.
    const int64_t base2 = mantissa == 0 ? exp2 - 1 : exp2;
    return static_cast<int32_t>(base2 >> -scale);
  }
  if (mantissa == 0) return static_cast<int32_t>((exp2 << scale) - 1);
  const double sig = std::bit_cast<double>(mantissa | 0x3ff0000000000000ull);
  // log2(sig) is in (0, 1) with an absolute error near 2^-53; scaling by 2^scale
  // is exact (a power of two). So m carries an error near 2^(scale-53).
  const double pow2 = static_cast<double>(int64_t{1} << scale);
  const double m = std::log2(sig) * pow2;
  const int64_t r = static_cast<int64_t>(m);  // m >= 0: truncation is floor
  int64_t index = (exp2 << scale) + r;
  const double tolerance = pow2 * 0x1p-40;
  if (m - static_cast<double>(r) < tolerance || static_cast<double>(r) + 1.0 - m < tolerance) {
    // Close to an edge: settle it against the real boundary b^index. Where v
    // differs from the double nearest that boundary, comparing with that double
    // decides; where v equals it, the side is decided in extended precision.
    const double lo = exp_lower_boundary(index, scale);
    if (v < lo || (v == lo && !real_boundary_below(index, scale, v))) {
      --index;
    } else {
      const double hi = exp_lower_boundary(index + 1, scale);
      if (v > hi || (v == hi && real_boundary_below(index + 1, scale, v))) ++index;
    }
  }
  return static_cast<int32_t>(index);
}

namespace {

// Scales 1..kExpTableMaxScale map through tables instead of log2 (~5x fewer
// instructions). Per scale s, within one octave [1, 2):
//   lower[j]      the double exp_lower_boundary(j, s), j in [0, 2^s]
//   real_below[j] whether the real edge 2^(j/2^s) lies below lower[j]
//   first[t]      the bucket of 1 + t/2^(s+1), the start of slice t of [1, 2)
// A slice spans less than one bucket (its log2 width is at most
// 2^-(s+1)/ln 2 < 2^-s), so a significand in slice t lies in bucket first[t]
// or the next; the edge between them is settled exactly as the log2 path
// settles edges (v above the double, or equal to it with the real edge below),
// so both paths give the same index (tested).
struct OctaveTable {
  std::vector<double> lower;
  std::vector<uint8_t> real_below;
  std::vector<uint16_t> first;
};

struct MappingTables {
  OctaveTable by_scale[kExpTableMaxScale + 1];  // [0] unused

  MappingTables() {
    for (int32_t s = 1; s <= kExpTableMaxScale; ++s) {
      OctaveTable& t = by_scale[s];
      const int64_t buckets = int64_t{1} << s;
      t.lower.resize(buckets + 1);
      t.real_below.resize(buckets + 1);
      for (int64_t j = 0; j <= buckets; ++j) {
        t.lower[j] = exp_lower_boundary(j, s);
        t.real_below[j] = real_boundary_below(j, s, t.lower[j]);
      }
      t.first.resize(size_t{2} << s);
      t.first[0] = 0;  // 1 itself closes bucket -1; the slice's other values are in bucket 0
      for (size_t k = 1; k < t.first.size(); ++k) {
        const double x = 1.0 + std::ldexp(static_cast<double>(k), -(s + 1));
        t.first[k] = static_cast<uint16_t>(exp_map_to_index_by_log(x, s));
      }
    }
  }
};

// Out of line: exp_map_to_index's fast path stays a leaf with no spills.
[[gnu::noinline]] const MappingTables& mapping_tables() {
  static const MappingTables tables;
  return tables;
}

}  // namespace

int32_t exp_map_to_index(double v, int32_t scale) {
  if (scale < 1 || scale > kExpTableMaxScale) return exp_map_to_index_by_log(v, scale);
  if (v < DBL_MIN) v = DBL_MIN;  // subnormals share the lowest normal bucket
  const uint64_t bits = std::bit_cast<uint64_t>(v);
  const int64_t exp2 = static_cast<int64_t>(bits >> 52) - 1023;
  const uint64_t mantissa = bits & ((uint64_t{1} << 52) - 1);
  if (mantissa == 0) return static_cast<int32_t>((exp2 << scale) - 1);
  const OctaveTable& t = mapping_tables().by_scale[scale];
  const double sig = std::bit_cast<double>(mantissa | 0x3ff0000000000000ull);
  int64_t j = t.first[mantissa >> (52 - (scale + 1))];
  const int64_t next = j + 1;  // never 2^scale: sig < 2 = lower[2^scale], real_below false
  if (sig > t.lower[next] || (sig == t.lower[next] && t.real_below[next])) j = next;
  return static_cast<int32_t>((exp2 << scale) + j);
}

double exp_lower_boundary(int64_t index, int32_t scale) {
  if (scale <= 0) {
    const int64_t e = index * (int64_t{1} << -scale);
    if (e > 1023) return kInf;
    if (e < -1075) return 0.0;
    return std::ldexp(1.0, static_cast<int>(e));
  }
  const int64_t q = index >> scale;        // floor(index / 2^scale)
  const int64_t r = index - (q << scale);  // in [0, 2^scale)
  if (q > 1023) return kInf;
  if (q < -1075) return 0.0;
  return std::ldexp(std::exp2(std::ldexp(static_cast<double>(r), -scale)), static_cast<int>(q));
}

double exp_relative_error_bound(int32_t scale) {
  // base - 1 = expm1(ln2 * 2^-scale), computed without cancellation.
  const double bm1 = std::expm1(std::ldexp(M_LN2, -scale));
  return bm1 / (bm1 + 2.0);
}

// ---- ExpBuckets -----------------------------------------------------------

uint64_t ExpBuckets::at(int32_t index) const {
  if (empty_ || index < start_ || index > end_) return 0;
  return counts_[slot(index)];
}

uint64_t ExpBuckets::total() const {
  uint64_t t = 0;
  if (empty_) return 0;
  for (int64_t i = start_; i <= end_; ++i) t += counts_[slot(static_cast<int32_t>(i))];
  return t;
}

void ExpBuckets::increment(int32_t index, uint64_t n, uint32_t max_buckets) {
  if (empty_) {
    if (counts_.empty()) {
      counts_.assign(std::bit_ceil(static_cast<size_t>(max_buckets)), 0);
      mask_ = counts_.size() - 1;
    }
    start_ = end_ = base_ = index;
    empty_ = false;
  } else if (index < start_) {
    start_ = index;
  } else if (index > end_) {
    end_ = index;
  }
  counts_[slot(index)] += n;
}

void ExpBuckets::downscale(int change) {
  if (empty_ || change <= 0) return;
  // Put start_ at slot 0 so the window is contiguous, then fold in place:
  // the target slot of position k is never past k, so one forward pass works.
  const size_t first = slot(start_);
  if (first != 0) std::rotate(counts_.begin(), counts_.begin() + first, counts_.end());
  const int64_t size = int64_t{end_} - start_ + 1;
  const int64_t new_start = int64_t{start_} >> change;
  for (int64_t k = 0; k < size; ++k) {
    const uint64_t v = counts_[k];
    if (v == 0) continue;
    counts_[k] = 0;
    counts_[((start_ + k) >> change) - new_start] += v;
  }
  start_ = static_cast<int32_t>(new_start);
  end_ = static_cast<int32_t>(int64_t{end_} >> change);
  base_ = start_;
}

uint64_t ExpBuckets::pop_front() {
  uint64_t& c = counts_[slot(start_)];
  const uint64_t v = c;
  c = 0;
  while (start_ < end_ && counts_[slot(start_)] == 0) ++start_;
  if (start_ == end_ && counts_[slot(start_)] == 0) empty_ = true;
  return v;
}

void ExpBuckets::clear() {
  if (empty_) return;
  for (int64_t i = start_; i <= end_; ++i) counts_[slot(static_cast<int32_t>(i))] = 0;
  empty_ = true;
}

// ---- ExpHistogram -----------------------------------------------------------

ExpHistogram::ExpHistogram(const Options& options) : options_(options) {
  options_.max_scale = std::clamp(options_.max_scale, kExpHistogramMinScale, kExpHistogramMaxScale);
  options_.max_buckets = std::clamp<uint32_t>(options_.max_buckets, 2, 16384);
  if (!(options_.zero_threshold >= 0.0) || !std::isfinite(options_.zero_threshold)) {
    options_.zero_threshold = 0.0;
  }
  scale_ = options_.max_scale;
  zero_threshold_ = options_.zero_threshold;
  min_ = kInf;
  max_ = -kInf;
}

int ExpHistogram::change_needed(int64_t lo, int64_t hi) const {
  int c = 0;
  while ((hi >> c) - (lo >> c) + 1 > static_cast<int64_t>(options_.max_buckets)) ++c;
  return c;
}

void ExpHistogram::downscale(int change) {
  if (change <= 0) return;
  positive_.downscale(change);
  negative_.downscale(change);
  scale_ -= change;
}

void ExpHistogram::record(double v) {
  if (!std::isfinite(v)) {
    ++non_finite_;
    return;
  }
  ++count_;
  sum_ += v;
  if (v < min_) min_ = v;
  if (v > max_) max_ = v;
  const double magnitude = std::fabs(v);
  if (magnitude <= zero_threshold_) {
    ++zero_count_;
    return;
  }
  ExpBuckets& b = v > 0 ? positive_ : negative_;
  int32_t index = exp_map_to_index(magnitude, scale_);
  if (!b.empty_ && (index < b.start_ || index > b.end_)) {
    const int64_t lo = std::min(index, b.start_);
    const int64_t hi = std::max(index, b.end_);
    if (hi - lo + 1 > static_cast<int64_t>(options_.max_buckets)) {
      const int change = change_needed(lo, hi);
      downscale(change);
      index >>= change;
    }
  }
  b.increment(index, 1, options_.max_buckets);
}

void ExpHistogram::fold_below_zero_threshold() {
  if (zero_threshold_ <= 0) return;
  for (ExpBuckets* b : {&positive_, &negative_}) {
    while (!b->empty_ && exp_lower_boundary(int64_t{b->start_} + 1, scale_) <= zero_threshold_) {
      zero_count_ += b->pop_front();
    }
  }
}

void ExpHistogram::merge(const ExpHistogram& other_in) {
  if (&other_in == this) {
    const ExpHistogram copy = other_in;
    merge(copy);
    return;
  }
  const ExpHistogram& o = other_in;
  non_finite_ += o.non_finite_;
  if (o.count_ == 0) return;
  count_ += o.count_;
  sum_ += o.sum_;
  has_sum_ = has_sum_ && o.has_sum_;
  min_ = std::min(min_, o.min_);
  max_ = std::max(max_, o.max_);
  zero_count_ += o.zero_count_;

  const int32_t target = std::min(scale_, o.scale_);
  int extra = 0;
  const ExpBuckets* theirs[2] = {&o.positive_, &o.negative_};
  ExpBuckets* ours[2] = {&positive_, &negative_};
  for (int s = 0; s < 2; ++s) {
    if (theirs[s]->empty_) continue;
    int64_t lo = int64_t{theirs[s]->start_} >> (o.scale_ - target);
    int64_t hi = int64_t{theirs[s]->end_} >> (o.scale_ - target);
    if (!ours[s]->empty_) {
      lo = std::min(lo, int64_t{ours[s]->start_} >> (scale_ - target));
      hi = std::max(hi, int64_t{ours[s]->end_} >> (scale_ - target));
    }
    extra = std::max(extra, change_needed(lo, hi));
  }
  downscale(scale_ - target + extra);
  const int shift = o.scale_ - scale_;
  for (int s = 0; s < 2; ++s) {
    const ExpBuckets& b = *theirs[s];
    if (b.empty_) continue;
    for (int64_t i = b.start_; i <= b.end_; ++i) {
      const uint64_t c = b.counts_[b.slot(static_cast<int32_t>(i))];
      if (c != 0) ours[s]->increment(static_cast<int32_t>(i >> shift), c, options_.max_buckets);
    }
  }
  if (o.zero_threshold_ != zero_threshold_) {
    zero_threshold_ = std::max(zero_threshold_, o.zero_threshold_);
    fold_below_zero_threshold();
  }
}

void ExpHistogram::clear() {
  count_ = 0;
  zero_count_ = 0;
  non_finite_ = 0;
  sum_ = 0;
  has_sum_ = true;
  min_ = kInf;
  max_ = -kInf;
  scale_ = options_.max_scale;
  zero_threshold_ = options_.zero_threshold;
  positive_.clear();
  negative_.clear();
}

std::optional<double> ExpHistogram::quantile(double q) const {
  if (count_ == 0 || !(q >= 0.0 && q <= 1.0)) return std::nullopt;
  uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  if (rank == 1) return min_;
  if (rank == count_) return max_;
  auto clamp = [this](double x) { return std::clamp(x, min_, max_); };
  // The minimax-relative-error point of (L, U]: 2LU/(L+U), written so that
  // neither L*U nor 2L can overflow.
  auto estimate = [this](int64_t index) {
    const double lo = exp_lower_boundary(index, scale_);
    const double hi = exp_lower_boundary(index + 1, scale_);
    if (!std::isfinite(hi)) return lo;
    return lo * (2.0 / (1.0 + lo / hi));  // the factor is in [1, 2): no overflow
  };
  uint64_t seen = 0;
  if (!negative_.empty_) {
    for (int64_t i = negative_.end_; i >= negative_.start_; --i) {
      seen += negative_.counts_[negative_.slot(static_cast<int32_t>(i))];
      if (seen >= rank) return clamp(-estimate(i));
    }
  }
  seen += zero_count_;
  if (seen >= rank) return clamp(0.0);
  if (!positive_.empty_) {
    for (int64_t i = positive_.start_; i <= positive_.end_; ++i) {
      seen += positive_.counts_[positive_.slot(static_cast<int32_t>(i))];
      if (seen >= rank) return clamp(estimate(i));
    }
  }
  return max_;  // unreachable while count_ equals the bucket total
}

namespace {

void export_buckets(const ExpBuckets& b, otlp::ExponentialBuckets* out) {
  out->bucket_counts.clear();
  if (b.empty()) {
    out->offset = 0;
    return;
  }
  out->offset = b.start();
  out->bucket_counts.reserve(static_cast<size_t>(int64_t{b.end()} - b.start() + 1));
  for (int64_t i = b.start(); i <= b.end(); ++i) {
    out->bucket_counts.push_back(b.at(static_cast<int32_t>(i)));
  }
}

}  // namespace

void ExpHistogram::to_otlp(otlp::ExponentialHistogramDataPoint* out) const {
  out->count = count_;
  out->has_sum = has_sum_ && negative_.empty();
  out->sum = out->has_sum ? sum_ : 0.0;
  out->scale = scale_;
  out->zero_count = zero_count_;
  out->zero_threshold = zero_threshold_;
  out->has_min = out->has_max = count_ > 0;
  out->min = count_ > 0 ? min_ : 0.0;
  out->max = count_ > 0 ? max_ : 0.0;
  export_buckets(positive_, &out->positive);
  export_buckets(negative_, &out->negative);
}

Status ExpHistogram::from_otlp(const otlp::ExponentialHistogramDataPoint& p, ExpHistogram* out,
                               const Options& options) {
  if (p.scale < kExpHistogramMinScale || p.scale > kExpHistogramMaxScale) {
    return Status::invalid_argument("exponential histogram: scale " + std::to_string(p.scale) +
                                    " outside [-10, 20]");
  }
  if (!(p.zero_threshold >= 0.0) || !std::isfinite(p.zero_threshold)) {
    return Status::invalid_argument("exponential histogram: bad zero_threshold");
  }
  uint64_t total = p.zero_count;
  const otlp::ExponentialBuckets* in[2] = {&p.positive, &p.negative};
  // Occupied index range of each sign (zero counts at either end ignored).
  bool occupied[2] = {false, false};
  int64_t first[2] = {0, 0}, last[2] = {0, 0};
  for (int s = 0; s < 2; ++s) {
    const otlp::ExponentialBuckets& b = *in[s];
    for (size_t k = 0; k < b.bucket_counts.size(); ++k) {
      const uint64_t c = b.bucket_counts[k];
      if (c == 0) continue;
      if (__builtin_add_overflow(total, c, &total)) {
        return Status::invalid_argument("exponential histogram: bucket counts overflow");
      }
      const int64_t index = int64_t{b.offset} + static_cast<int64_t>(k);
      if (!occupied[s]) first[s] = index;
      last[s] = index;
      occupied[s] = true;
    }
    if (!occupied[s]) continue;
    if (last[s] > std::numeric_limits<int32_t>::max()) {
      return Status::invalid_argument("exponential histogram: bucket index overflows int32");
    }
    // Every bucket must hold some double: upper edge above 0, lower edge finite.
    if (!(exp_lower_boundary(first[s] + 1, p.scale) > 0.0) ||
        !std::isfinite(exp_lower_boundary(last[s], p.scale))) {
      return Status::invalid_argument("exponential histogram: bucket index out of range at scale " +
                                      std::to_string(p.scale));
    }
  }
  if (total != p.count) {
    return Status::invalid_argument("exponential histogram: count " + std::to_string(p.count) +
                                    " != zero_count + bucket counts " + std::to_string(total));
  }

  ExpHistogram h(options);
  const int base_change = std::max(0, p.scale - h.options_.max_scale);
  int change = base_change;
  for (int s = 0; s < 2; ++s) {
    if (!occupied[s]) continue;
    change = std::max(
        change, base_change + h.change_needed(first[s] >> base_change, last[s] >> base_change));
  }
  if (p.scale - change < kExpHistogramMinScale) {
    return Status::invalid_argument("exponential histogram: bucket range impossible at scale " +
                                    std::to_string(p.scale));
  }
  h.scale_ = p.scale - change;
  ExpBuckets* ours[2] = {&h.positive_, &h.negative_};
  for (int s = 0; s < 2; ++s) {
    const otlp::ExponentialBuckets& b = *in[s];
    for (size_t k = 0; k < b.bucket_counts.size(); ++k) {
      if (b.bucket_counts[k] == 0) continue;
      const int64_t index = (int64_t{b.offset} + static_cast<int64_t>(k)) >> change;
      ours[s]->increment(static_cast<int32_t>(index), b.bucket_counts[k], h.options_.max_buckets);
    }
  }
  h.count_ = p.count;
  h.zero_count_ = p.zero_count;
  h.sum_ = p.has_sum ? p.sum : 0.0;
  h.has_sum_ = p.has_sum;
  h.zero_threshold_ = std::max(h.options_.zero_threshold, p.zero_threshold);
  if (h.count_ > 0) {
    // Without explicit min/max, the outermost bucket edges bound the data.
    double lo, hi;
    if (!h.negative_.empty_) {
      lo = -exp_lower_boundary(int64_t{h.negative_.end_} + 1, h.scale_);
    } else if (h.zero_count_ > 0) {
      lo = -h.zero_threshold_;
    } else {
      lo = exp_lower_boundary(h.positive_.start_, h.scale_);
    }
    if (!h.positive_.empty_) {
      hi = exp_lower_boundary(int64_t{h.positive_.end_} + 1, h.scale_);
    } else if (h.zero_count_ > 0) {
      hi = h.zero_threshold_;
    } else {
      hi = -exp_lower_boundary(h.negative_.start_, h.scale_);
    }
    h.min_ = p.has_min ? p.min : lo;
    h.max_ = p.has_max ? p.max : hi;
  }
  h.fold_below_zero_threshold();
  *out = std::move(h);
  return Status::ok_status();
}

}  // namespace pyrometer::common
