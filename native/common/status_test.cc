#include "common/status.h"

#include <gtest/gtest.h>

namespace pyrometer::common {

TEST(StatusTest, OkIsCheapAndPrintsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.to_string(), "OK");
}

TEST(StatusTest, ErrorCarriesCodeAndMessage) {
  Status s = Status::invalid_argument("span.trace_id: length 3, want 16");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(s.to_string(), "InvalidArgument: span.trace_id: length 3, want 16");
}

}  // namespace pyrometer::common
