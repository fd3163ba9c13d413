// Tests for the pprof Profile codec: every field round-trips, malformed protobuf
// and broken references are rejected with the offending field named.
#include "common/pprof_codec.h"

#include <gtest/gtest.h>

#include <protozero/pbf_writer.hpp>

#include "common/pprof_json_dump.h"
#include "common/testing/pprof_samples.h"

namespace pyrometer::common::pprof {
namespace {

using protozero::pbf_writer;

std::string encoded(const Profile& p) {
  std::string out;
  encode_profile(p, &out);
  return out;
}

TEST(PprofCodec, RichProfileRoundTripsEveryField) {
  const Profile p = testing::rich_profile();
  ASSERT_TRUE(validate_profile(p).ok());
  const std::string wire = encoded(p);
  Profile back;
  const Status st = decode_profile(wire, &back);
  ASSERT_TRUE(st.ok()) << st.to_string();
  EXPECT_EQ(dump_json(back), dump_json(p));
  EXPECT_EQ(back.string_table.size(), p.string_table.size());
  EXPECT_EQ(back.location[0].line[0].column, 4);
  EXPECT_EQ(back.sample[1].value[1], -5);
  EXPECT_EQ(encoded(back), wire);
}

TEST(PprofCodec, EmptyInputIsAnEmptyProfile) {
  Profile p;
  EXPECT_TRUE(decode_profile("", &p).ok());
  EXPECT_TRUE(p.string_table.empty());
  EXPECT_TRUE(encoded(p).empty());
}

TEST(PprofCodec, UnpackedLocationIdsAndValuesDecode) {
  std::string sample;
  {
    pbf_writer w(sample);
    w.add_uint64(1, 1);
    w.add_int64(2, 7);
  }
  std::string loc;
  pbf_writer(loc).add_uint64(1, 1);
  std::string vt;
  pbf_writer(vt).add_int64(1, 1);
  std::string prof;
  {
    pbf_writer w(prof);
    w.add_message(1, vt);
    w.add_message(2, sample);
    w.add_message(4, loc);
    w.add_string(6, "");
    w.add_string(6, "cpu");
  }
  Profile p;
  const Status st = decode_profile(prof, &p);
  ASSERT_TRUE(st.ok()) << st.to_string();
  EXPECT_EQ(p.sample[0].location_id, std::vector<uint64_t>{1});
  EXPECT_EQ(p.sample[0].value, std::vector<int64_t>{7});
}

TEST(PprofCodec, StringIndexOutOfRangeIsRejected) {
  Profile p = testing::rich_profile();
  p.function[1].filename = 99;
  Profile back;
  const Status st = decode_profile(encoded(p), &back);
  ASSERT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(st.message().find("function[1].filename"), std::string::npos) << st.message();
}

TEST(PprofCodec, NegativeStringIndexIsRejected) {
  Profile p = testing::rich_profile();
  p.sample[0].label[0].str = -1;
  Profile back;
  EXPECT_EQ(decode_profile(encoded(p), &back).code(), Status::Code::kInvalidArgument);
}

TEST(PprofCodec, FirstStringMustBeEmpty) {
  Profile p = testing::rich_profile();
  p.string_table[0] = "x";
  Profile back;
  EXPECT_EQ(decode_profile(encoded(p), &back).code(), Status::Code::kInvalidArgument);
}

TEST(PprofCodec, UnknownLocationFunctionOrMappingIsRejected) {
  {
    Profile p = testing::rich_profile();
    p.sample[0].location_id.push_back(77);
    Profile back;
    const Status st = decode_profile(encoded(p), &back);
    EXPECT_NE(st.message().find("sample[0].location_id[2]: unknown id 77"), std::string::npos)
        << st.message();
  }
  {
    Profile p = testing::rich_profile();
    p.location[1].line[0].function_id = 9;
    Profile back;
    EXPECT_EQ(decode_profile(encoded(p), &back).code(), Status::Code::kInvalidArgument);
  }
  {
    Profile p = testing::rich_profile();
    p.location[1].mapping_id = 4;
    Profile back;
    EXPECT_EQ(decode_profile(encoded(p), &back).code(), Status::Code::kInvalidArgument);
  }
}

TEST(PprofCodec, ZeroOrDuplicateIdsAreRejected) {
  Profile p = testing::rich_profile();
  p.function[1].id = 1;
  Profile back;
  EXPECT_EQ(decode_profile(encoded(p), &back).code(), Status::Code::kInvalidArgument);
  Profile q = testing::rich_profile();
  q.mapping[0].id = 0;
  q.location[0].mapping_id = 0;
  EXPECT_EQ(decode_profile(encoded(q), &back).code(), Status::Code::kInvalidArgument);
}

TEST(PprofCodec, ValueCountMustMatchSampleTypes) {
  Profile p = testing::rich_profile();
  p.sample[1].value.pop_back();
  Profile back;
  const Status st = decode_profile(encoded(p), &back);
  EXPECT_NE(st.message().find("sample[1].value"), std::string::npos) << st.message();
}

TEST(PprofCodec, MalformedProtobufIsRejected) {
  const std::string wire = encoded(testing::rich_profile());
  for (size_t n = 1; n < wire.size(); ++n) {
    Profile back;
    const Status st = decode_profile(std::string_view(wire).substr(0, n), &back);
    if (!st.ok()) {
      EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
    }
  }
  Profile back;
  const Status st = decode_profile(std::string("\x32\x05\x61", 3), &back);  // string past end
  EXPECT_NE(st.message().find("Profile.string_table"), std::string::npos) << st.message();
  Profile back2;
  EXPECT_EQ(decode_profile(std::string("\x48\x01\x4a\x01", 4), &back2).code(),
            Status::Code::kInvalidArgument);  // time_nanos as length-delimited
}

}  // namespace
}  // namespace pyrometer::common::pprof
