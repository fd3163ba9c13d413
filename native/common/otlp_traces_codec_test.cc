// Tests for the ExportTraceServiceRequest codec: every field round-trips,
// wire-level choices match opentelemetry-proto, and ids are length-checked.
#include <gtest/gtest.h>

#include <protozero/pbf_writer.hpp>

#include "common/otlp_codec.h"
#include "common/otlp_json_dump.h"
#include "common/testing/otlp_samples.h"

namespace pyrometer::common::otlp {
namespace {

using protozero::pbf_writer;

std::string encoded_rich_traces() {
  TracesRequest req;
  testing::fill_rich_traces(&req);
  std::string out;
  encode_traces(req, &out);
  return out;
}

TEST(OtlpTracesCodec, RichRequestRoundTripsEveryField) {
  TracesRequest req;
  testing::fill_rich_traces(&req);
  std::string wire;
  encode_traces(req, &wire);
  TracesRequest back;
  ASSERT_TRUE(decode_traces(wire, &back).ok());
  EXPECT_EQ(dump_json(back), dump_json(req));
  // Spot checks that the dump really carries the fields.
  const Span& s = back.resource_spans[0].scope_spans[0].spans[0];
  EXPECT_EQ(s.trace_id, testing::kTraceId);
  EXPECT_EQ(s.flags, 0x301u);
  EXPECT_EQ(s.kind, SpanKind::kServer);
  EXPECT_EQ(s.status_code, StatusCode::kError);
  EXPECT_EQ(s.events.size(), 2u);
  EXPECT_EQ(s.links.size(), 2u);
  EXPECT_EQ(back.resource_spans.size(), 2u);
  EXPECT_EQ(back.resource_spans[0].scope_spans.size(), 2u);
}

TEST(OtlpTracesCodec, ReencodingIsByteStable) {
  const std::string wire = encoded_rich_traces();
  TracesRequest back;
  ASSERT_TRUE(decode_traces(wire, &back).ok());
  std::string again;
  encode_traces(back, &again);
  EXPECT_EQ(again, wire);
}

TEST(OtlpTracesCodec, EncodeAppendsToExistingBuffer) {
  std::string out = "prefix";
  TracesRequest req;
  testing::fill_rich_traces(&req);
  encode_traces(req, &out);
  EXPECT_EQ(out.substr(0, 6), "prefix");
  EXPECT_EQ(out.substr(6), encoded_rich_traces());
}

TEST(OtlpTracesCodec, EmptyInputIsAnEmptyRequest) {
  TracesRequest req;
  EXPECT_TRUE(decode_traces("", &req).ok());
  EXPECT_TRUE(req.resource_spans.empty());
  std::string out;
  encode_traces(req, &out);
  EXPECT_TRUE(out.empty());
}

TEST(OtlpTracesCodec, SpanFlagsAreFixed32Field16AndTimesFixed64) {
  TracesRequest req;
  Span& s = req.resource_spans.emplace_back().scope_spans.emplace_back().spans.emplace_back();
  s.flags = 0x01020304;
  s.start_time_unix_nano = 0x1122334455667788ULL;
  std::string wire;
  encode_traces(req, &wire);
  // key(16, fixed32) = (16 << 3 | 5) = 0x85 0x01; then 4 little-endian bytes.
  EXPECT_NE(wire.find(std::string("\x85\x01\x04\x03\x02\x01", 6)), std::string::npos);
  // key(7, fixed64) = 0x39.
  EXPECT_NE(wire.find(std::string("\x39\x88\x77\x66\x55\x44\x33\x22\x11", 9)), std::string::npos);
}

// Builds resource_spans[0].scope_spans[0].spans[0] around a span body.
std::string wrap_span(const std::string& span_body) {
  std::string scope_spans;
  pbf_writer(scope_spans).add_message(2, span_body);
  std::string resource_spans;
  pbf_writer(resource_spans).add_message(2, scope_spans);
  std::string req;
  pbf_writer(req).add_message(1, resource_spans);
  return req;
}

TEST(OtlpTracesCodec, RejectsTraceIdOfWrongLength) {
  std::string span;
  pbf_writer(span).add_bytes(1, "short");
  TracesRequest req;
  const Status st = decode_traces(wrap_span(span), &req);
  ASSERT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(st.message().find("resource_spans[0].scope_spans[0].spans[0].trace_id"),
            std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find("length 5"), std::string::npos) << st.message();
}

TEST(OtlpTracesCodec, RejectsSpanIdAndParentIdOfWrongLength) {
  for (int field : {2, 4}) {
    std::string span;
    pbf_writer(span).add_bytes(field, std::string(16, 'x'));
    TracesRequest req;
    EXPECT_EQ(decode_traces(wrap_span(span), &req).code(), Status::Code::kInvalidArgument)
        << "field " << field;
  }
}

TEST(OtlpTracesCodec, RejectsLinkIdsOfWrongLength) {
  std::string link;
  pbf_writer(link).add_bytes(2, std::string(9, 'x'));
  std::string span;
  pbf_writer(span).add_message(13, link);
  TracesRequest req;
  const Status st = decode_traces(wrap_span(span), &req);
  EXPECT_NE(st.message().find("links[0].span_id"), std::string::npos) << st.message();
}

TEST(OtlpTracesCodec, AcceptsEmptyIds) {
  std::string span;
  pbf_writer w(span);
  w.add_bytes(1, "");
  w.add_bytes(2, "");
  w.add_string(5, "n");
  TracesRequest req;
  ASSERT_TRUE(decode_traces(wrap_span(span), &req).ok());
  EXPECT_TRUE(req.resource_spans[0].scope_spans[0].spans[0].trace_id.empty());
}

TEST(OtlpTracesCodec, UnknownFieldsAndEnumValuesAreTolerated) {
  std::string span;
  pbf_writer w(span);
  w.add_string(5, "name");
  w.add_uint64(99, 12345);        // unknown varint field
  w.add_string(100, "whatever");  // unknown length-delimited field
  w.add_fixed32(101, 7);
  w.add_fixed64(102, 7);
  w.add_enum(6, 42);                         // span kind from the future
  const std::string wire = wrap_span(span);  // decoded views point into it
  TracesRequest req;
  ASSERT_TRUE(decode_traces(wire, &req).ok());
  const Span& s = req.resource_spans[0].scope_spans[0].spans[0];
  EXPECT_EQ(s.name, "name");
  EXPECT_EQ(s.kind, SpanKind::kUnspecified);
}

TEST(OtlpTracesCodec, DecodedStringsPointIntoInput) {
  const std::string wire = encoded_rich_traces();
  TracesRequest req;
  ASSERT_TRUE(decode_traces(wire, &req).ok());
  const std::string_view name = req.resource_spans[0].scope_spans[0].spans[0].name;
  EXPECT_GE(name.data(), wire.data());
  EXPECT_LE(name.data() + name.size(), wire.data() + wire.size());
}

}  // namespace
}  // namespace pyrometer::common::otlp
