// Tests for the shared OTLP messages (AnyValue, KeyValue, Resource, scope) through
// the traces codec: oneof rules, empty values, merging of repeated singular fields.
#include "common/otlp_common_codec.h"

#include <gtest/gtest.h>

#include <limits>
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

namespace pyrometer::common::otlp {
namespace {

// The KeyValue encoding with nested protozero writers, field by field: what
// encode_key_values' scalar fast path must reproduce byte for byte.
void write_nested_key_value(pbf_writer& parent, const KeyValue& kv, uint32_t tag) {
  {
    pbf_writer m(parent, tag);
    if (!kv.key.empty()) m.add_bytes(1, kv.key.data(), kv.key.size());
    pbf_writer v(m, 2);
    switch (kv.value.type) {
      case AnyValue::Type::kString:
        v.add_bytes(1, kv.value.string_value.data(), kv.value.string_value.size());
        break;
      case AnyValue::Type::kBytes:
        v.add_bytes(7, kv.value.string_value.data(), kv.value.string_value.size());
        break;
      case AnyValue::Type::kBool:
        v.add_bool(2, kv.value.bool_value);
        break;
      case AnyValue::Type::kInt:
        v.add_int64(3, kv.value.int_value);
        break;
      default:
        v.add_double(4, kv.value.double_value);
        break;
    }
  }
}

std::string nested_key_value(const KeyValue& kv, uint32_t tag) {
  std::string out;
  pbf_writer top(out);
  write_nested_key_value(top, kv, tag);
  return out;
}

TEST(OtlpCommonCodec, ScalarKeyValuesEncodeAsNestedWritersWould) {
  const std::string long_text(200, 'x');  // two-byte lengths
  const std::string long_key(130, 'k');
  std::vector<KeyValue> kvs;
  for (std::string_view key :
       {std::string_view(""), std::string_view("http.route"), std::string_view(long_key)}) {
    for (std::string_view text :
         {std::string_view(""), std::string_view("/items/{id}"), std::string_view(long_text)}) {
      kvs.push_back({key, AnyValue::of_string(text)});
      AnyValue bytes = AnyValue::of_string(text);
      bytes.type = AnyValue::Type::kBytes;
      kvs.push_back({key, bytes});
    }
    for (int64_t i : {int64_t{0}, int64_t{1}, int64_t{127}, int64_t{128}, int64_t{-1},
                      std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()}) {
      kvs.push_back({key, AnyValue::of_int(i)});
    }
    kvs.push_back({key, AnyValue::of_bool(false)});
    kvs.push_back({key, AnyValue::of_bool(true)});
    for (double d : {0.0, -0.0, 1.5, -2.25e300, std::numeric_limits<double>::infinity()}) {
      kvs.push_back({key, AnyValue::of_double(d)});
    }
  }
  for (uint32_t tag : {1u, 16u, 3000u}) {  // one-, two- and three-byte field keys
    for (const KeyValue& kv : kvs) {
      std::string got;
      pbf_writer w(got);
      detail::encode_key_values(w, proto::Writer{&got}, tag, {kv});
      EXPECT_EQ(got, nested_key_value(kv, tag)) << "tag " << tag << ", key size " << kv.key.size()
                                                << ", type " << static_cast<int>(kv.value.type);
    }
  }
}

// Attributes are written inside open submessages (a span inside a ScopeSpans
// inside a ResourceSpans): the enclosing writers' lengths must count them.
TEST(OtlpCommonCodec, ScalarKeyValuesInsideOpenSubmessages) {
  const std::vector<KeyValue> kvs = {{"http.route", AnyValue::of_string("/items/{id}")},
                                     {"n", AnyValue::of_int(300)},
                                     {"big", AnyValue::of_string(std::string(300, 'v'))}};
  std::string got;
  {
    pbf_writer top(got);
    pbf_writer outer(top, 1);
    pbf_writer inner(outer, 2);
    inner.add_uint32(5, 7);
    detail::encode_key_values(inner, proto::Writer{&got}, 9, kvs);
    inner.add_uint32(6, 8);
  }
  std::string want;
  {
    pbf_writer top(want);
    pbf_writer outer(top, 1);
    pbf_writer inner(outer, 2);
    inner.add_uint32(5, 7);
    for (const KeyValue& kv : kvs) write_nested_key_value(inner, kv, 9);
    inner.add_uint32(6, 8);
  }
  EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace pyrometer::common::otlp
