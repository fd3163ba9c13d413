// Tests for the ExportMetricsServiceRequest codec: every point type round-trips,
// packed and unpacked repeated scalars decode alike, oneof rules hold.
#include <gtest/gtest.h>

#include <cmath>
#include <protozero/pbf_writer.hpp>

#include "common/otlp_codec.h"
#include "common/otlp_json_dump.h"
#include "common/testing/otlp_samples.h"

namespace pyrometer::common::otlp {
namespace {

using protozero::pbf_writer;

TEST(OtlpMetricsCodec, RichRequestRoundTripsEveryField) {
  MetricsRequest req;
  testing::fill_rich_metrics(&req);
  std::string wire;
  encode_metrics(req, &wire);
  MetricsRequest back;
  ASSERT_TRUE(decode_metrics(wire, &back).ok());
  EXPECT_EQ(dump_json(back), dump_json(req));
  const auto& metrics = back.resource_metrics[0].scope_metrics[0].metrics;
  ASSERT_EQ(metrics.size(), 6u);
  EXPECT_EQ(metrics[0].type, Metric::Type::kGauge);
  EXPECT_TRUE(metrics[0].number_points[0].is_int);
  EXPECT_FALSE(metrics[0].number_points[1].is_int);
  EXPECT_EQ(metrics[1].type, Metric::Type::kSum);
  EXPECT_TRUE(metrics[1].is_monotonic);
  EXPECT_EQ(metrics[2].histogram_points[0].bucket_counts, (std::vector<uint64_t>{1, 0, 3, 2}));
  EXPECT_FALSE(metrics[2].histogram_points[1].has_sum);
  EXPECT_EQ(metrics[3].exp_histogram_points[0].positive.offset, -5);
  EXPECT_EQ(metrics[3].exp_histogram_points[0].scale, -3);
  EXPECT_EQ(metrics[4].type, Metric::Type::kGauge);  // empty gauge stays a gauge
  EXPECT_EQ(metrics[5].type, Metric::Type::kEmpty);
}

TEST(OtlpMetricsCodec, ReencodingIsByteStable) {
  MetricsRequest req;
  testing::fill_rich_metrics(&req);
  std::string wire;
  encode_metrics(req, &wire);
  MetricsRequest back;
  ASSERT_TRUE(decode_metrics(wire, &back).ok());
  std::string again;
  encode_metrics(back, &again);
  EXPECT_EQ(again, wire);
}

// resource_metrics[0].scope_metrics[0].metrics[0] around a metric body.
std::string wrap_metric(const std::string& metric) {
  std::string sm;
  pbf_writer(sm).add_message(2, metric);
  std::string rm;
  pbf_writer(rm).add_message(2, sm);
  std::string req;
  pbf_writer(req).add_message(1, rm);
  return req;
}

std::string histogram_metric(const std::string& point) {
  std::string hist;
  pbf_writer hw(hist);
  hw.add_message(1, point);
  hw.add_enum(2, 1);
  std::string metric;
  pbf_writer mw(metric);
  mw.add_string(1, "h");
  mw.add_message(9, hist);
  return wrap_metric(metric);
}

TEST(OtlpMetricsCodec, HistogramBucketsDecodePackedAndUnpacked) {
  std::string packed_point;
  {
    pbf_writer w(packed_point);
    const uint64_t counts[] = {1, 2, 3};
    const double bounds[] = {0.5, 1.5};
    w.add_packed_fixed64(6, std::begin(counts), std::end(counts));
    w.add_packed_double(7, std::begin(bounds), std::end(bounds));
  }
  std::string unpacked_point;
  {
    pbf_writer w(unpacked_point);
    w.add_fixed64(6, 1);
    w.add_double(7, 0.5);
    w.add_fixed64(6, 2);
    w.add_double(7, 1.5);
    w.add_fixed64(6, 3);
  }
  const std::string a = histogram_metric(packed_point);
  const std::string b = histogram_metric(unpacked_point);
  MetricsRequest ra;
  MetricsRequest rb;
  ASSERT_TRUE(decode_metrics(a, &ra).ok());
  ASSERT_TRUE(decode_metrics(b, &rb).ok());
  EXPECT_EQ(dump_json(ra), dump_json(rb));
  const HistogramDataPoint& p =
      ra.resource_metrics[0].scope_metrics[0].metrics[0].histogram_points[0];
  EXPECT_EQ(p.bucket_counts, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(p.explicit_bounds, (std::vector<double>{0.5, 1.5}));
}

TEST(OtlpMetricsCodec, ExponentialBucketCountsDecodePackedAndUnpacked) {
  auto metric_with_buckets = [](const std::string& buckets) {
    std::string point;
    pbf_writer(point).add_message(8, buckets);
    std::string eh;
    pbf_writer(eh).add_message(1, point);
    std::string metric;
    pbf_writer(metric).add_message(10, eh);
    return wrap_metric(metric);
  };
  std::string packed;
  {
    pbf_writer w(packed);
    w.add_sint32(1, -2);
    const uint64_t counts[] = {5, 300, 0};
    w.add_packed_uint64(2, std::begin(counts), std::end(counts));
  }
  std::string unpacked;
  {
    pbf_writer w(unpacked);
    w.add_sint32(1, -2);
    w.add_uint64(2, 5);
    w.add_uint64(2, 300);
    w.add_uint64(2, 0);
  }
  const std::string a = metric_with_buckets(packed);
  const std::string b = metric_with_buckets(unpacked);
  MetricsRequest ra;
  MetricsRequest rb;
  ASSERT_TRUE(decode_metrics(a, &ra).ok());
  ASSERT_TRUE(decode_metrics(b, &rb).ok());
  const auto& pa = ra.resource_metrics[0].scope_metrics[0].metrics[0].exp_histogram_points[0];
  EXPECT_EQ(pa.positive.offset, -2);
  EXPECT_EQ(pa.positive.bucket_counts, (std::vector<uint64_t>{5, 300, 0}));
  EXPECT_EQ(dump_json(ra), dump_json(rb));
}

TEST(OtlpMetricsCodec, PackedFixed64WithPartialElementIsRejected) {
  std::string point;
  pbf_writer(point).add_bytes(6, std::string(12, '\x01'));  // 1.5 fixed64s
  const std::string wire = histogram_metric(point);
  MetricsRequest req;
  const Status st = decode_metrics(wire, &req);
  ASSERT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(st.message().find("data_points[0].bucket_counts"), std::string::npos) << st.message();
}

TEST(OtlpMetricsCodec, PackedVarintTruncatedIsRejected) {
  std::string buckets;
  pbf_writer(buckets).add_bytes(2, std::string("\x05\xff", 2));
  std::string point;
  pbf_writer(point).add_message(9, buckets);
  std::string eh;
  pbf_writer(eh).add_message(1, point);
  std::string metric;
  pbf_writer(metric).add_message(10, eh);
  const std::string wire = wrap_metric(metric);
  MetricsRequest req;
  const Status st = decode_metrics(wire, &req);
  ASSERT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(st.message().find("negative.bucket_counts"), std::string::npos) << st.message();
}

TEST(OtlpMetricsCodec, AsIntIsSfixed64AndAsDoubleWinsWhenLast) {
  std::string point;
  {
    pbf_writer w(point);
    w.add_sfixed64(6, -5);
    w.add_double(4, 2.5);  // oneof: last member wins
  }
  std::string gauge;
  pbf_writer(gauge).add_message(1, point);
  std::string metric;
  pbf_writer(metric).add_message(5, gauge);
  const std::string wire = wrap_metric(metric);
  MetricsRequest req;
  ASSERT_TRUE(decode_metrics(wire, &req).ok());
  const NumberDataPoint& p = req.resource_metrics[0].scope_metrics[0].metrics[0].number_points[0];
  EXPECT_FALSE(p.is_int);
  EXPECT_EQ(p.as_double, 2.5);
}

TEST(OtlpMetricsCodec, AsIntAsVarintIsWrongWireType) {
  std::string point;
  pbf_writer(point).add_int64(6, -5);
  std::string gauge;
  pbf_writer(gauge).add_message(1, point);
  std::string metric;
  pbf_writer(metric).add_message(5, gauge);
  const std::string wire = wrap_metric(metric);
  MetricsRequest req;
  const Status st = decode_metrics(wire, &req);
  EXPECT_NE(st.message().find("gauge.data_points[0].as_int"), std::string::npos) << st.message();
}

TEST(OtlpMetricsCodec, LaterDataMemberReplacesEarlierOne) {
  std::string point;
  pbf_writer(point).add_double(4, 1.0);
  std::string gauge;
  pbf_writer(gauge).add_message(1, point);
  std::string hist;
  pbf_writer(hist).add_enum(2, 2);
  std::string metric;
  pbf_writer mw(metric);
  mw.add_message(5, gauge);
  mw.add_message(9, hist);
  const std::string wire = wrap_metric(metric);
  MetricsRequest req;
  ASSERT_TRUE(decode_metrics(wire, &req).ok());
  const Metric& m = req.resource_metrics[0].scope_metrics[0].metrics[0];
  EXPECT_EQ(m.type, Metric::Type::kHistogram);
  EXPECT_TRUE(m.number_points.empty());
  EXPECT_EQ(m.temporality, AggregationTemporality::kCumulative);
}

TEST(OtlpMetricsCodec, SummaryIsSkippedNotRejected) {
  std::string metric;
  pbf_writer mw(metric);
  mw.add_string(1, "legacy");
  mw.add_message(11, std::string("\x0a\x00", 2));
  const std::string wire = wrap_metric(metric);
  MetricsRequest req;
  ASSERT_TRUE(decode_metrics(wire, &req).ok());
  EXPECT_EQ(req.resource_metrics[0].scope_metrics[0].metrics[0].type, Metric::Type::kEmpty);
}

TEST(OtlpMetricsCodec, NegativeZeroAndNanSurviveRoundTrip) {
  MetricsRequest req;
  Metric& m =
      req.resource_metrics.emplace_back().scope_metrics.emplace_back().metrics.emplace_back();
  m.type = Metric::Type::kExponentialHistogram;
  ExponentialHistogramDataPoint& p = m.exp_histogram_points.emplace_back();
  p.zero_threshold = -0.0;
  p.has_sum = true;
  p.sum = std::nan("");
  std::string wire;
  encode_metrics(req, &wire);
  MetricsRequest back;
  ASSERT_TRUE(decode_metrics(wire, &back).ok());
  const auto& q = back.resource_metrics[0].scope_metrics[0].metrics[0].exp_histogram_points[0];
  EXPECT_TRUE(std::signbit(q.zero_threshold));
  EXPECT_TRUE(std::isnan(q.sum));
}

TEST(OtlpMetricsCodec, ExemplarIdsAreLengthChecked) {
  std::string ex;
  pbf_writer(ex).add_bytes(5, std::string(15, 'x'));
  std::string point;
  pbf_writer(point).add_message(5, ex);
  std::string sum;
  pbf_writer(sum).add_message(1, point);
  std::string metric;
  pbf_writer(metric).add_message(7, sum);
  const std::string wire = wrap_metric(metric);
  MetricsRequest req;
  const Status st = decode_metrics(wire, &req);
  EXPECT_NE(st.message().find("sum.data_points[0].exemplars[0].trace_id"), std::string::npos)
      << st.message();
}

}  // namespace
}  // namespace pyrometer::common::otlp
