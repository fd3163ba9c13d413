// Tests for the Export*ServiceResponse codec (partial_success).
#include <gtest/gtest.h>

#include "common/otlp_codec.h"

namespace pyrometer::common::otlp {
namespace {

TEST(OtlpResponseCodec, FullSuccessIsAnEmptyMessage) {
  std::string out;
  encode_export_response(PartialSuccess{}, &out);
  EXPECT_TRUE(out.empty());
  PartialSuccess back;
  back.rejected = 5;
  ASSERT_TRUE(decode_export_response(out, &back).ok());
  EXPECT_EQ(back.rejected, 5);  // nothing decoded, nothing changed
}

TEST(OtlpResponseCodec, PartialSuccessRoundTrips) {
  PartialSuccess p;
  p.rejected = 17;
  p.error_message = "17 spans had invalid ids";
  std::string out;
  encode_export_response(p, &out);
  // partial_success (1, len) { rejected (1, varint 17), error_message (2, len) }
  EXPECT_EQ(out.substr(0, 4), std::string("\x0a\x1c\x08\x11", 4));
  PartialSuccess back;
  ASSERT_TRUE(decode_export_response(out, &back).ok());
  EXPECT_EQ(back.rejected, 17);
  EXPECT_EQ(back.error_message, p.error_message);
}

TEST(OtlpResponseCodec, MalformedResponseIsRejected) {
  PartialSuccess back;
  const Status st = decode_export_response(std::string("\x0a\x05\x08", 3), &back);
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(decode_export_response(std::string("\x0a\x02\x10\x01", 4), &back).code(),
            Status::Code::kInvalidArgument);  // error_message as varint
}

}  // namespace
}  // namespace pyrometer::common::otlp
