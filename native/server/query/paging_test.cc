// Tests for limit/cursor parsing and the cursor's round trip and checks.
#include "server/query/paging.h"

#include <gtest/gtest.h>

namespace pyrometer::server::query {
namespace {

TEST(Paging, DefaultsAndBounds) {
  http::Request rq;
  Page p;
  ASSERT_TRUE(parse_page(rq, 50, 100, &p).ok());
  EXPECT_EQ(p.limit, 50u);
  EXPECT_EQ(p.offset, 0u);
  rq.query = "limit=100";
  ASSERT_TRUE(parse_page(rq, 50, 100, &p).ok());
  EXPECT_EQ(p.limit, 100u);
  for (const char* q : {"limit=0", "limit=101", "limit=-1", "limit=ten"}) {
    rq.query = q;
    EXPECT_FALSE(parse_page(rq, 50, 100, &p).ok()) << q;
  }
}

TEST(Paging, CursorRoundTripsAndRefusesTampering) {
  for (size_t off : {0ul, 1ul, 255ul, 123456789ul}) {
    size_t back = 99;
    ASSERT_TRUE(decode_cursor(encode_cursor(off), &back));
    EXPECT_EQ(back, off);
  }
  std::string c = encode_cursor(40);
  std::string tampered = c;
  tampered[2] = tampered[2] == '5' ? '6' : '5';
  size_t off = 0;
  EXPECT_FALSE(decode_cursor(tampered, &off));
  EXPECT_FALSE(decode_cursor("", &off));
  http::Request rq;
  rq.query = "cursor=" + c;
  Page p;
  ASSERT_TRUE(parse_page(rq, 10, 100, &p).ok());
  EXPECT_EQ(p.offset, 40u);
  rq.query = "cursor=nonsense";
  EXPECT_FALSE(parse_page(rq, 10, 100, &p).ok());
}

}  // namespace
}  // namespace pyrometer::server::query
