// Tests for the ExportLogsServiceRequest codec: every field round-trips
// (including each body type and event_name) and ids are length-checked.
#include <gtest/gtest.h>

#include <protozero/pbf_writer.hpp>

#include "common/otlp_codec.h"
#include "common/otlp_json_dump.h"
#include "common/testing/otlp_samples.h"

namespace pyrometer::common::otlp {
namespace {

using protozero::pbf_writer;

TEST(OtlpLogsCodec, RichRequestRoundTripsEveryField) {
  LogsRequest req;
  testing::fill_rich_logs(&req);
  std::string wire;
  encode_logs(req, &wire);
  LogsRequest back;
  ASSERT_TRUE(decode_logs(wire, &back).ok());
  EXPECT_EQ(dump_json(back), dump_json(req));
  const auto& records = back.resource_logs[0].scope_logs[0].log_records;
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[0].event_name, "pyrometer.insight");
  EXPECT_EQ(records[0].severity_number, 17);
  EXPECT_EQ(records[1].body.type, AnyValue::Type::kKvList);
  EXPECT_EQ(records[2].body.type, AnyValue::Type::kInt);  // int 0 keeps its type
  EXPECT_EQ(records[3].body.type, AnyValue::Type::kEmpty);
}

TEST(OtlpLogsCodec, ReencodingIsByteStable) {
  LogsRequest req;
  testing::fill_rich_logs(&req);
  std::string wire;
  encode_logs(req, &wire);
  LogsRequest back;
  ASSERT_TRUE(decode_logs(wire, &back).ok());
  std::string again;
  encode_logs(back, &again);
  EXPECT_EQ(again, wire);
}

std::string wrap_record(const std::string& record) {
  std::string sl;
  pbf_writer(sl).add_message(2, record);
  std::string rl;
  pbf_writer(rl).add_message(2, sl);
  std::string req;
  pbf_writer(req).add_message(1, rl);
  return req;
}

TEST(OtlpLogsCodec, FlagsAreFixed32) {
  std::string record;
  pbf_writer(record).add_uint32(8, 1);  // varint: wrong
  const std::string wire = wrap_record(record);
  LogsRequest req;
  const Status st = decode_logs(wire, &req);
  EXPECT_NE(st.message().find("log_records[0].flags"), std::string::npos) << st.message();
}

TEST(OtlpLogsCodec, RejectsIdsOfWrongLength) {
  std::string record;
  pbf_writer(record).add_bytes(10, std::string(4, 'x'));
  const std::string wire = wrap_record(record);
  LogsRequest req;
  const Status st = decode_logs(wire, &req);
  ASSERT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(st.message().find("log_records[0].span_id"), std::string::npos) << st.message();
}

TEST(OtlpLogsCodec, EmptyInputIsAnEmptyRequest) {
  LogsRequest req;
  EXPECT_TRUE(decode_logs("", &req).ok());
  EXPECT_TRUE(req.resource_logs.empty());
}

}  // namespace
}  // namespace pyrometer::common::otlp
