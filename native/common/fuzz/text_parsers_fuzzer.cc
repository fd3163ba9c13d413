// libFuzzer target for the shared core's text parsers and the histogram:
// traceparent, tracestate, baggage, the SQL normaliser, and recording doubles.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "common/baggage.h"
#include "common/exp_histogram.h"
#include "common/sql_normalizer.h"
#include "common/traceparent.h"

namespace pc = pyrometer::common;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

void fuzz_trace_context(std::string_view in) {
  if (auto tp = pc::parse_traceparent(in)) {
    check(tp->trace_id.is_valid() && tp->parent_id.is_valid() && tp->version != 0xff);
    auto again = pc::parse_traceparent(pc::format_traceparent(*tp));
    check(again && again->trace_id == tp->trace_id && again->parent_id == tp->parent_id &&
          again->flags == tp->flags);
  }
  if (auto ts = pc::TraceState::parse(in)) {
    check(ts->size() <= pc::TraceState::kMaxEntries);
    std::string h = ts->to_header();
    check(h.size() <= pc::TraceState::kMaxHeaderLength);
    check(pc::TraceState::parse(h).has_value());
  }
}

void fuzz_baggage(std::string_view in) {
  pc::Baggage b = pc::Baggage::parse(in);
  check(b.size() <= pc::Baggage::kMaxMembers);
  std::string h = b.to_header();
  check(h.size() <= pc::Baggage::kMaxBytes);
  // What we write parses back cleanly. (Members whose encoded form no longer
  // fits the byte limit are left out of the header, so the count may shrink.)
  pc::Baggage::ParseStats st;
  pc::Baggage again = pc::Baggage::parse(h, &st);
  check(st.invalid_members == 0 && st.over_limit == 0);
  check(again.size() <= b.size());
}

void fuzz_sql(std::string_view in, pc::SqlDialect dialect) {
  pc::NormalizedSql r = pc::normalize_sql(in, pc::SqlNormalizerOptions{dialect});
  check(r.fingerprint == pc::sql_fingerprint(r.text));
  check(r.text.size() <= in.size() + in.size() / 2 + 1);
  // The normalised text is a fixed point: the server may re-normalise it.
  check(pc::normalize_sql(r.text, pc::SqlNormalizerOptions{dialect}).text == r.text);
}

void fuzz_histogram(const uint8_t* data, size_t size) {
  pc::ExpHistogram::Options opt;
  opt.max_buckets = 2 + (size > 0 ? data[0] % 64 : 0);
  pc::ExpHistogram a(opt), b;
  size_t n = 0;
  for (size_t i = 1; i + 8 <= size; i += 8, ++n) {
    double v;
    std::memcpy(&v, data + i, 8);
    (n % 2 ? a : b).record(v);
  }
  pc::ExpHistogram m = a;
  m.merge(b);
  check(m.count() == a.count() + b.count());
  double prev = -INFINITY;
  for (double q = 0; q <= 1.0; q += 0.125) {
    auto est = m.quantile(q);
    if (!est) break;
    check(*est >= m.min() && *est <= m.max() && *est >= prev);
    prev = *est;
  }
  pyrometer::common::otlp::ExponentialHistogramDataPoint p;
  m.to_otlp(&p);
  pc::ExpHistogram back;
  check(pc::ExpHistogram::from_otlp(p, &back).ok());
  check(back.count() == m.count() && back.scale() <= m.scale());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 5) {
    case 0:
      fuzz_trace_context(in);
      break;
    case 1:
      fuzz_baggage(in);
      break;
    case 2:
      fuzz_sql(in, pc::SqlDialect::kStandard);
      break;
    case 3:
      fuzz_sql(in, pc::SqlDialect::kMySQL);
      break;
    default:
      fuzz_histogram(data + 1, size - 1);
      break;
  }
  return 0;
}
