// Tests for the shared OTLP messages (AnyValue, KeyValue, Resource, scope) through
// the traces codec: oneof rules, empty values, merging of repeated singular fields.
#include <gtest/gtest.h>

#include <protozero/pbf_writer.hpp>

#include "common/otlp_codec.h"
#include "common/otlp_json_dump.h"

namespace pyrometer::common::otlp {
namespace {

using protozero::pbf_writer;

// A request whose resource has one attribute {key: "k", value: <any_value body>}.
std::string request_with_value(const std::string& any_value) {
  std::string kv;
  pbf_writer kvw(kv);
  kvw.add_string(1, "k");
  kvw.add_message(2, any_value);
  std::string res;
  pbf_writer(res).add_message(1, kv);
  std::string rs;
  pbf_writer(rs).add_message(1, res);
  std::string req;
  pbf_writer(req).add_message(1, rs);
  return req;
}

const AnyValue& only_value(const TracesRequest& req) {
  return req.resource_spans.at(0).resource.attributes.at(0).value;
}

TEST(OtlpCommonCodec, LastOneofMemberWinsAndClearsEarlierArray) {
  std::string arr;
  pbf_writer(arr).add_message(1, std::string("\x0a\x01x", 3));
  std::string any;
  pbf_writer w(any);
  w.add_message(5, arr);
  w.add_int64(3, 9);
  const std::string wire = request_with_value(any);
  TracesRequest req;
  ASSERT_TRUE(decode_traces(wire, &req).ok());
  EXPECT_EQ(only_value(req).type, AnyValue::Type::kInt);
  EXPECT_EQ(only_value(req).int_value, 9);
  EXPECT_TRUE(only_value(req).array_value.empty());
}

TEST(OtlpCommonCodec, RepeatedArrayValueMerges) {
  std::string a1;
  pbf_writer(a1).add_message(1, std::string("\x18\x01", 2));
  std::string a2;
  pbf_writer(a2).add_message(1, std::string("\x18\x02", 2));
  std::string any;
  pbf_writer w(any);
  w.add_message(5, a1);
  w.add_message(5, a2);
  const std::string wire = request_with_value(any);
  TracesRequest req;
  ASSERT_TRUE(decode_traces(wire, &req).ok());
  ASSERT_EQ(only_value(req).array_value.size(), 2u);
  EXPECT_EQ(only_value(req).array_value[1].int_value, 2);
}

TEST(OtlpCommonCodec, EmptyElementsOfArraysAndKvlistsSurviveRoundTrip) {
  TracesRequest req;
  AnyValue arr;
  arr.type = AnyValue::Type::kArray;
  arr.array_value.resize(3);  // three empty values
  AnyValue kvl;
  kvl.type = AnyValue::Type::kKvList;
  kvl.kvlist_value.resize(2);  // empty keys, empty values
  AnyValue empty_kvl;
  empty_kvl.type = AnyValue::Type::kKvList;
  Resource& r = req.resource_spans.emplace_back().resource;
  r.attributes.push_back({"arr", arr});
  r.attributes.push_back({"kvl", kvl});
  r.attributes.push_back({"empty_kvl", empty_kvl});
  r.attributes.push_back({"", AnyValue{}});
  std::string wire;
  encode_traces(req, &wire);
  TracesRequest back;
  ASSERT_TRUE(decode_traces(wire, &back).ok());
  EXPECT_EQ(dump_json(back), dump_json(req));
  const auto& attrs = back.resource_spans[0].resource.attributes;
  ASSERT_EQ(attrs.size(), 4u);
  EXPECT_EQ(attrs[0].value.array_value.size(), 3u);
  EXPECT_EQ(attrs[1].value.kvlist_value.size(), 2u);
  EXPECT_EQ(attrs[2].value.type, AnyValue::Type::kKvList);
}

TEST(OtlpCommonCodec, BytesValueKeepsArbitraryBytes) {
  std::string any;
  pbf_writer(any).add_bytes(7, std::string("\x00\x80\xff", 3));
  const std::string wire = request_with_value(any);
  TracesRequest req;
  ASSERT_TRUE(decode_traces(wire, &req).ok());
  EXPECT_EQ(only_value(req).type, AnyValue::Type::kBytes);
  EXPECT_EQ(only_value(req).string_value, std::string_view("\x00\x80\xff", 3));
}

TEST(OtlpCommonCodec, BoolWithWrongWireTypeIsRejected) {
  std::string any;
  pbf_writer(any).add_fixed32(2, 1);
  const std::string wire = request_with_value(any);
  TracesRequest req;
  const Status st = decode_traces(wire, &req);
  ASSERT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(st.message().find("resource.attributes[0].value.bool_value"), std::string::npos)
      << st.message();
}

TEST(OtlpCommonCodec, ScopeFieldsDecode) {
  std::string scope;
  pbf_writer sw(scope);
  sw.add_string(1, "lib");
  sw.add_string(2, "1.0");
  sw.add_uint32(4, 3);
  std::string ss;
  pbf_writer(ss).add_message(1, scope);
  std::string rs;
  pbf_writer(rs).add_message(2, ss);
  std::string wire;
  pbf_writer(wire).add_message(1, rs);
  TracesRequest req;
  ASSERT_TRUE(decode_traces(wire, &req).ok());
  const InstrumentationScope& s = req.resource_spans[0].scope_spans[0].scope;
  EXPECT_EQ(s.name, "lib");
  EXPECT_EQ(s.version, "1.0");
  EXPECT_EQ(s.dropped_attributes_count, 3u);
}

}  // namespace
}  // namespace pyrometer::common::otlp
