// Tests for the W3C baggage header: grammar, properties, percent-encoding,
// leniency per member, and the 180-member / 8192-byte limits.
#include "common/baggage.h"

#include <gtest/gtest.h>

#include <string>

namespace pyrometer::common {
namespace {

TEST(BaggageTest, ParsesMembersWithOwsAndProperties) {
  auto b = Baggage::parse("userId=alice , serverNode = DF%2028 ;ttl=60;secret, isProduction=false");
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b.get("userId"), "alice");
  EXPECT_EQ(b.get("serverNode"), "DF 28");
  EXPECT_EQ(b.get("isProduction"), "false");
  const auto& props = b.members()[1].properties;
  ASSERT_EQ(props.size(), 2u);
  EXPECT_EQ(props[0].key, "ttl");
  EXPECT_EQ(props[0].value, "60");
  EXPECT_EQ(props[1].key, "secret");
  EXPECT_FALSE(props[1].value);
}

TEST(BaggageTest, PercentDecodingIncludingUtf8AndInvalidEscapes) {
  auto b = Baggage::parse("a=%E2%9C%93,b=100%25,c=50%,d=%zz1");
  EXPECT_EQ(b.get("a"), "\xE2\x9C\x93");  // U+2713 check mark
  EXPECT_EQ(b.get("b"), "100%");
  EXPECT_EQ(b.get("c"), "50%");   // a lone '%' stays literal
  EXPECT_EQ(b.get("d"), "%zz1");  // so does an invalid escape
}

TEST(BaggageTest, InvalidMembersAreSkippedAndCounted) {
  Baggage::ParseStats st;
  auto b =
      Baggage::parse("ok=1,no equals,bad key=2,=3,v=has space,q=\"x\",p=1;bad prop=2,last=9", &st);
  EXPECT_EQ(b.size(), 2u);
  EXPECT_EQ(b.get("ok"), "1");
  EXPECT_EQ(b.get("last"), "9");
  EXPECT_EQ(st.invalid_members, 6u);
  EXPECT_EQ(st.over_limit, 0u);
}

TEST(BaggageTest, EmptyValuesAndEmptyMembers) {
  auto b = Baggage::parse(",,k=,  ,j=2,");
  EXPECT_EQ(b.size(), 2u);
  EXPECT_EQ(b.get("k"), "");
  EXPECT_EQ(b.get("j"), "2");
  EXPECT_TRUE(Baggage::parse("").empty());
}

TEST(BaggageTest, MemberLimit) {
  std::string h;
  for (int i = 0; i < 200; ++i) {
    if (i) h += ',';
    h += "k" + std::to_string(i) + "=v";
  }
  Baggage::ParseStats st;
  auto b = Baggage::parse(h, &st);
  EXPECT_EQ(b.size(), Baggage::kMaxMembers);
  EXPECT_EQ(st.over_limit, 20u);
  EXPECT_TRUE(b.get("k179"));
  EXPECT_FALSE(b.get("k180"));
}

TEST(BaggageTest, HeaderOverByteLimitIsIgnored) {
  std::string h = "k=" + std::string(Baggage::kMaxBytes, 'v');
  Baggage::ParseStats st;
  EXPECT_TRUE(Baggage::parse(h, &st).empty());
  EXPECT_EQ(st.over_limit, 1u);
  std::string fits = "k=" + std::string(Baggage::kMaxBytes - 2, 'v');
  EXPECT_EQ(Baggage::parse(fits).size(), 1u);
}

TEST(BaggageTest, FormatEncodesAndRoundTrips) {
  Baggage b;
  EXPECT_TRUE(b.set("user", "Zoë, \"admin\"; 100%"));
  EXPECT_TRUE(b.set("tenant", "acme"));
  EXPECT_FALSE(b.set("bad key", "x"));
  std::string h = b.to_header();
  EXPECT_EQ(h, "user=Zo%C3%AB%2C%20%22admin%22%3B%20100%25,tenant=acme");
  auto back = Baggage::parse(h);
  EXPECT_EQ(back.members(), b.members());
  EXPECT_TRUE(b.set("user", "bob"));  // replaces, moves to the end
  EXPECT_EQ(b.to_header(), "tenant=acme,user=bob");
  EXPECT_TRUE(b.erase("tenant"));
  EXPECT_EQ(b.to_header(), "user=bob");
}

TEST(BaggageTest, PropertiesRoundTrip) {
  auto b = Baggage::parse("k=v;p1=a%20b;flag");
  EXPECT_EQ(b.to_header(), "k=v;p1=a%20b;flag");
}

TEST(BaggageTest, FormatStaysWithinLimits) {
  Baggage b;
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(b.set("key" + std::to_string(i), "v"));
  std::string h = b.to_header();
  EXPECT_EQ(Baggage::parse(h).size(), Baggage::kMaxMembers);
  Baggage big;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(big.set("k" + std::to_string(i), std::string(3000, 'x')));
  std::string hb = big.to_header();
  EXPECT_LE(hb.size(), Baggage::kMaxBytes);
  EXPECT_EQ(Baggage::parse(hb).size(), 2u);
}

}  // namespace
}  // namespace pyrometer::common
