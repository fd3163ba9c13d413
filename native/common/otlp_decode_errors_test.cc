// Malformed-input tests shared by the OTLP decoders: truncation, bad lengths,
// wrong wire types, nesting bombs and garbage all give invalid_argument, never a crash.
#include <gtest/gtest.h>

#include <protozero/pbf_writer.hpp>
#include <random>

#include "common/otlp_codec.h"
#include "common/testing/otlp_samples.h"

namespace pyrometer::common::otlp {
namespace {

using protozero::pbf_writer;

Status decode_t(std::string_view data) {
  TracesRequest r;
  return decode_traces(data, &r);
}
Status decode_m(std::string_view data) {
  MetricsRequest r;
  return decode_metrics(data, &r);
}
Status decode_l(std::string_view data) {
  LogsRequest r;
  return decode_logs(data, &r);
}

std::string rich_traces() {
  TracesRequest req;
  testing::fill_rich_traces(&req);
  std::string out;
  encode_traces(req, &out);
  return out;
}

TEST(OtlpDecodeErrors, EveryTruncationOfAValidPayloadIsRejectedOrValid) {
  // Cutting a valid request anywhere must never crash; most cuts are errors.
  const std::string wire = rich_traces();
  size_t rejected = 0;
  for (size_t n = 0; n < wire.size(); ++n) {
    const Status st = decode_t(std::string_view(wire).substr(0, n));
    if (!st.ok()) {
      ++rejected;
      EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
    }
  }
  EXPECT_GT(rejected, wire.size() / 2);
}

TEST(OtlpDecodeErrors, TruncatedVarintKey) {
  const Status st = decode_t(std::string("\x8a", 1));
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
}

TEST(OtlpDecodeErrors, TruncatedVarintValue) {
  // resource_spans[0].scope_spans[0].spans[0].dropped_attributes_count (varint) cut short.
  std::string span("\x50\xff", 2);  // key(10, varint), unterminated varint
  std::string ss;
  pbf_writer(ss).add_message(2, span);
  std::string rs;
  pbf_writer(rs).add_message(2, ss);
  std::string req;
  pbf_writer(req).add_message(1, rs);
  const Status st = decode_t(req);
  ASSERT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(st.message().find("spans[0].dropped_attributes_count"), std::string::npos)
      << st.message();
}

TEST(OtlpDecodeErrors, OverlongVarint) {
  const std::string bad("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12);
  EXPECT_EQ(decode_t(bad).code(), Status::Code::kInvalidArgument);
}

TEST(OtlpDecodeErrors, LengthPastEnd) {
  // resource_spans with length 100 but 2 bytes of body.
  EXPECT_EQ(decode_t(std::string("\x0a\x64\x0a\x00", 4)).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(decode_m(std::string("\x0a\x64\x0a\x00", 4)).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(decode_l(std::string("\x0a\x64\x0a\x00", 4)).code(), Status::Code::kInvalidArgument);
}

TEST(OtlpDecodeErrors, HugeLengthDoesNotWrap) {
  // Length varint near 2^32: must not wrap the end pointer.
  EXPECT_EQ(decode_t(std::string("\x0a\xff\xff\xff\xff\x0f", 6)).code(),
            Status::Code::kInvalidArgument);
}

TEST(OtlpDecodeErrors, FixedFieldPastEnd) {
  std::string span("\x39\x01\x02", 3);  // start_time fixed64 with 2 of 8 bytes
  std::string ss;
  pbf_writer(ss).add_message(2, span);
  std::string rs;
  pbf_writer(rs).add_message(2, ss);
  std::string req;
  pbf_writer(req).add_message(1, rs);
  EXPECT_EQ(decode_t(req).code(), Status::Code::kInvalidArgument);
}

TEST(OtlpDecodeErrors, WrongWireTypeForKnownField) {
  // resource_spans as a varint instead of a message.
  const Status st = decode_t(std::string("\x08\x01", 2));
  ASSERT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(st.message().find("resource_spans"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("wrong wire type"), std::string::npos) << st.message();
}

TEST(OtlpDecodeErrors, WrongWireTypeForFixed64Time) {
  std::string span;
  pbf_writer(span).add_uint64(7, 5);  // start_time_unix_nano as varint
  std::string ss;
  pbf_writer(ss).add_message(2, span);
  std::string rs;
  pbf_writer(rs).add_message(2, ss);
  std::string req;
  pbf_writer(req).add_message(1, rs);
  const Status st = decode_t(req);
  EXPECT_NE(st.message().find("start_time_unix_nano"), std::string::npos) << st.message();
}

TEST(OtlpDecodeErrors, WrongWireTypeForBoolAtEndOfBufferIsNotReadPastEnd) {
  // bool_value (AnyValue field 2) as a length-delimited field, then a bare key.
  std::string any("\x10", 1);  // key(2, varint) with no value byte
  std::string kv;
  pbf_writer(kv).add_message(2, any);
  std::string res;
  pbf_writer(res).add_message(1, kv);
  std::string rs;
  pbf_writer(rs).add_message(1, res);
  std::string req;
  pbf_writer(req).add_message(1, rs);
  EXPECT_EQ(decode_t(req).code(), Status::Code::kInvalidArgument);
}

TEST(OtlpDecodeErrors, InvalidWireTypeAndTagZero) {
  EXPECT_EQ(decode_t(std::string("\x0b", 1)).code(), Status::Code::kInvalidArgument);  // group
  EXPECT_EQ(decode_t(std::string("\x0f", 1)).code(), Status::Code::kInvalidArgument);  // type 7
  EXPECT_EQ(decode_t(std::string("\x00\x00", 2)).code(), Status::Code::kInvalidArgument);
}

// An attribute whose value is an array nested `depth` deep.
std::string nested_array_request(int depth) {
  std::string any;
  pbf_writer(any).add_string(1, "leaf");
  for (int i = 0; i < depth; ++i) {
    std::string arr;
    pbf_writer(arr).add_message(1, any);
    std::string outer;
    pbf_writer(outer).add_message(5, arr);
    any = outer;
  }
  std::string kv;
  pbf_writer kvw(kv);
  kvw.add_string(1, "k");
  kvw.add_message(2, any);
  std::string res;
  pbf_writer(res).add_message(1, kv);
  std::string rs;
  pbf_writer(rs).add_message(1, res);
  std::string req;
  pbf_writer(req).add_message(1, rs);
  return req;
}

TEST(OtlpDecodeErrors, NestingWithinLimitIsAccepted) {
  TracesRequest req;
  ASSERT_TRUE(decode_traces(nested_array_request(10), &req).ok());
  const AnyValue* v = &req.resource_spans[0].resource.attributes[0].value;
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(v->type, AnyValue::Type::kArray);
    v = &v->array_value[0];
  }
  EXPECT_EQ(v->string_value, "leaf");
}

TEST(OtlpDecodeErrors, NestingTooDeepIsRejected) {
  const Status st = decode_t(nested_array_request(10000));
  ASSERT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(st.message().find("nested deeper than 32"), std::string::npos) << st.message();
}

TEST(OtlpDecodeErrors, RandomGarbageNeverCrashes) {
  std::mt19937_64 rng(12345);
  size_t ok = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string buf(rng() % 64, '\0');
    for (char& c : buf) c = static_cast<char>(rng());
    ok += decode_t(buf).ok();
    ok += decode_m(buf).ok();
    ok += decode_l(buf).ok();
  }
  EXPECT_LT(ok, 3u * 20000u);  // garbage is mostly rejected
}

TEST(OtlpDecodeErrors, BitFlipsOfValidPayloadNeverCrash) {
  const std::string wire = rich_traces();
  for (size_t i = 0; i < wire.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string mutated = wire;
      mutated[i] = static_cast<char>(mutated[i] ^ (1 << bit));
      TracesRequest req;
      const Status st = decode_traces(mutated, &req);
      if (!st.ok()) {
        EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
      }
    }
  }
}

}  // namespace
}  // namespace pyrometer::common::otlp
