// Tests for traceparent/tracestate: every case of the W3C trace-context test
// suite (test/test.py), plus round trips and the combined extraction.
#include "common/traceparent.h"

#include <gtest/gtest.h>

#include <string>

namespace pyrometer::common {
namespace {

constexpr std::string_view kTrace = "12345678901234567890123456789012";
constexpr std::string_view kValid = "00-12345678901234567890123456789012-1234567890123456-01";

TEST(TraceparentTest, ParsesValidHeader) {
  auto tp = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  ASSERT_TRUE(tp);
  EXPECT_EQ(tp->version, 0);
  EXPECT_EQ(tp->trace_id.to_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(tp->parent_id.to_hex(), "00f067aa0ba902b7");
  EXPECT_EQ(tp->flags, 1);
  EXPECT_TRUE(tp->sampled());
  auto unsampled = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  ASSERT_TRUE(unsampled);
  EXPECT_FALSE(unsampled->sampled());
}

TEST(TraceparentTest, FormatRoundTrip) {
  auto tp = parse_traceparent(kValid);
  ASSERT_TRUE(tp);
  EXPECT_EQ(format_traceparent(*tp), kValid);
  TraceParent fresh{0, TraceId::random(), SpanId::random(), TraceParent::kFlagSampled};
  auto back = parse_traceparent(format_traceparent(fresh));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, fresh);
}

// Every header the W3C harness sends that a vendor must reject (a new trace id
// is expected in the harness; here: parse fails).
TEST(TraceparentTest, RejectsEveryMalformedCaseOfW3cSuite) {
  const std::string z = "00-12345678901234567890123456789012-1234567890123456-01";
  const char* cases[] = {
      // test_traceparent_version_0x00: extra trailing characters for version 00
      "00-12345678901234567890123456789012-1234567890123456-01.",
      "00-12345678901234567890123456789012-1234567890123456-01-what-the-future-will-be-like",
      // test_traceparent_version_0xcc: a future version with a bad separator
      "cc-12345678901234567890123456789012-1234567890123456-01.what-the-future-will-be-like",
      // test_traceparent_version_0xff
      "ff-12345678901234567890123456789012-1234567890123456-01",
      // test_traceparent_version_illegal_characters
      ".0-12345678901234567890123456789012-1234567890123456-01",
      "0.-12345678901234567890123456789012-1234567890123456-01",
      // test_traceparent_version_too_long / too_short
      "000-12345678901234567890123456789012-1234567890123456-01",
      "0000-12345678901234567890123456789012-1234567890123456-01",
      "0-12345678901234567890123456789012-1234567890123456-01",
      // test_traceparent_trace_id_all_zero
      "00-00000000000000000000000000000000-1234567890123456-01",
      // test_traceparent_trace_id_illegal_characters
      "00-.2345678901234567890123456789012-1234567890123456-01",
      "00-1234567890123456789012345678901.-1234567890123456-01",
      // test_traceparent_trace_id_too_long / too_short
      "00-123456789012345678901234567890123-1234567890123456-01",
      "00-1234567890123456789012345678901-1234567890123456-01",
      // test_traceparent_parent_id_all_zero
      "00-12345678901234567890123456789012-0000000000000000-01",
      // test_traceparent_parent_id_illegal_characters
      "00-12345678901234567890123456789012-.234567890123456-01",
      "00-12345678901234567890123456789012-123456789012345.-01",
      // test_traceparent_parent_id_too_long / too_short
      "00-12345678901234567890123456789012-12345678901234567-01",
      "00-12345678901234567890123456789012-123456789012345-01",
      // test_traceparent_trace_flags_illegal_characters
      "00-12345678901234567890123456789012-1234567890123456-.0",
      "00-12345678901234567890123456789012-1234567890123456-0.",
      // test_traceparent_trace_flags_too_long / too_short
      "00-12345678901234567890123456789012-1234567890123456-001",
      "00-12345678901234567890123456789012-1234567890123456-1",
      // Uppercase hex anywhere (the spec's HEXDIGLC).
      "00-1234567890123456789012345678901A-1234567890123456-01",
      "00-12345678901234567890123456789012-123456789012345A-01",
      "00-12345678901234567890123456789012-1234567890123456-0A",
      "0A-12345678901234567890123456789012-1234567890123456-01",
      // Bad separators.
      "00_12345678901234567890123456789012-1234567890123456-01",
      "00-12345678901234567890123456789012_1234567890123456-01",
      "00-12345678901234567890123456789012-1234567890123456_01",
      // Whitespace inside, empty, OWS-only.
      "00-12345678901234567890123456789012 -1234567890123456-01",
      "",
      "   ",
  };
  for (const char* c : cases) EXPECT_FALSE(parse_traceparent(c)) << "accepted: " << c;
  EXPECT_TRUE(parse_traceparent(z));
}

TEST(TraceparentTest, FutureVersionsParseTheirKnownPrefix) {
  // test_traceparent_version_0xcc: accepted, same trace id.
  for (const char* c : {
           "cc-12345678901234567890123456789012-1234567890123456-01",
           "cc-12345678901234567890123456789012-1234567890123456-01-what-the-future-will-be-like",
       }) {
    auto tp = parse_traceparent(c);
    ASSERT_TRUE(tp) << c;
    EXPECT_EQ(tp->version, 0xcc);
    EXPECT_EQ(tp->trace_id.to_hex(), kTrace);
    // We re-emit as version 00.
    EXPECT_EQ(format_traceparent(*tp), kValid);
  }
}

TEST(TraceparentTest, TrimsLeadingAndTrailingOws) {
  // test_traceparent_ows_handling
  for (const char* c : {
           " 00-12345678901234567890123456789012-1234567890123456-01",
           "\t00-12345678901234567890123456789012-1234567890123456-01",
           "00-12345678901234567890123456789012-1234567890123456-01 ",
           "00-12345678901234567890123456789012-1234567890123456-01\t",
           "\t 00-12345678901234567890123456789012-1234567890123456-01 \t",
       }) {
    auto tp = parse_traceparent(c);
    ASSERT_TRUE(tp) << '"' << c << '"';
    EXPECT_EQ(tp->trace_id.to_hex(), kTrace);
  }
}

TEST(TraceStateTest, ParsesAndKeepsOrder) {
  // test_tracestate_multiple_headers_different_keys: lines joined with ','.
  auto ts = TraceState::parse("foo=1,bar=2,rojo=1,congo=2,baz=3");
  ASSERT_TRUE(ts);
  EXPECT_EQ(ts->to_header(), "foo=1,bar=2,rojo=1,congo=2,baz=3");
  EXPECT_EQ(ts->get("congo"), "2");
  EXPECT_FALSE(ts->get("nope"));
}

TEST(TraceStateTest, EmptyHeaderAndEmptyMembers) {
  // test_tracestate_empty_header: "" alone, and "foo=1" + "" / "" + "foo=1".
  auto empty = TraceState::parse("");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
  for (const char* c : {"foo=1,", ",foo=1", "foo=1,,", " , foo=1 ,"}) {
    auto ts = TraceState::parse(c);
    ASSERT_TRUE(ts) << c;
    EXPECT_EQ(ts->size(), 1u);
    EXPECT_EQ(ts->get("foo"), "1");
  }
}

TEST(TraceStateTest, OwsHandling) {
  // test_tracestate_ows_handling
  for (const char* c : {"foo=1 \t , \t bar=2, \t baz=3", "foo=1\t \t,\t \tbar=2,\t \tbaz=3"}) {
    auto ts = TraceState::parse(c);
    ASSERT_TRUE(ts) << c;
    EXPECT_EQ(ts->get("foo"), "1");
    EXPECT_EQ(ts->get("bar"), "2");
    EXPECT_EQ(ts->get("baz"), "3");
  }
  for (const char* c : {" foo=1", "\tfoo=1", "foo=1 ", "foo=1\t", "\t foo=1 \t"}) {
    auto ts = TraceState::parse(c);
    ASSERT_TRUE(ts) << c;
    EXPECT_EQ(ts->get("foo"), "1");
  }
}

TEST(TraceStateTest, AllAllowedCharacters) {
  // test_tracestate_all_allowed_characters
  std::string key = "abcdefghijklmnopqrstuvwxyz0123456789_-*/";
  std::string vendor_key = key + "@a-z0-9_-*/";
  std::string value;
  for (int c = 0x20; c <= 0x7e; ++c) {
    if (c != ',' && c != '=') value += static_cast<char>(c);
  }
  for (const std::string& k : {key, vendor_key}) {
    auto ts = TraceState::parse(k + "=" + value);
    ASSERT_TRUE(ts) << k;
    EXPECT_EQ(ts->get(k), value);
  }
}

TEST(TraceStateTest, RejectsInvalidHeaders) {
  const std::string k256(256, 'z'), k257(257, 'z');
  const std::string cases[] = {
      // test_tracestate_duplicated_keys
      "foo=1,foo=1",
      "foo=1,foo=2",
      // test_tracestate_key_illegal_characters
      "foo =1",
      "FOO=1",
      "foo.bar=1",
      // test_tracestate_key_illegal_vendor_format
      "foo@=1,bar=2",
      "@foo=1,bar=2",
      "foo@@bar=1,bar=2",
      "foo@bar@baz=1,bar=2",
      // test_tracestate_key_length_limit (the invalid halves)
      "foo=1," + k257 + "=1",
      "foo=1," + std::string(242, 't') + "@v=1",
      "foo=1,t@" + std::string(15, 'v') + "=1",
      // test_tracestate_value_illegal_characters
      "foo=bar=baz",
      "foo=,bar=3",
      // no '=' at all, non-ASCII, a key starting with a digit (simple key)
      "foo",
      "foo=\xc3\xa9",
      "1foo=1",
      // a value longer than 256
      "foo=" + std::string(257, 'v'),
  };
  for (const std::string& c : cases) EXPECT_FALSE(TraceState::parse(c)) << c;
  // The valid halves of test_tracestate_key_length_limit.
  EXPECT_TRUE(TraceState::parse("foo=1," + k256 + "=1"));
  EXPECT_TRUE(
      TraceState::parse("foo=1," + std::string(241, 't') + "@" + std::string(14, 'v') + "=1"));
  EXPECT_TRUE(TraceState::parse("foo=" + std::string(256, 'v')));
}

TEST(TraceStateTest, MemberCountLimit) {
  // test_tracestate_member_count_limit: 32 accepted, 33 rejected.
  std::string h;
  for (int i = 1; i <= 32; ++i) {
    if (i > 1) h += ',';
    char buf[16];
    snprintf(buf, sizeof(buf), "bar%02d=%02d", i, i);
    h += buf;
  }
  auto ts = TraceState::parse(h);
  ASSERT_TRUE(ts);
  EXPECT_EQ(ts->size(), 32u);
  EXPECT_EQ(ts->get("bar01"), "01");
  EXPECT_FALSE(TraceState::parse(h + ",bar33=33"));
}

TEST(TraceStateTest, PutMovesToFrontAndBoundsSize) {
  auto ts = TraceState::parse("a=1,b=2,c=3");
  ASSERT_TRUE(ts);
  EXPECT_TRUE(ts->put("c", "9"));
  EXPECT_EQ(ts->to_header(), "c=9,a=1,b=2");
  EXPECT_TRUE(ts->put("py", "x"));
  EXPECT_EQ(ts->to_header(), "py=x,c=9,a=1,b=2");
  EXPECT_FALSE(ts->put("Bad", "x"));
  EXPECT_FALSE(ts->put("ok", "a,b"));
  EXPECT_TRUE(ts->erase("a"));
  EXPECT_FALSE(ts->erase("a"));
  EXPECT_EQ(ts->to_header(), "py=x,c=9,b=2");
  TraceState full;
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(full.put("k" + std::to_string(i), "v"));
  EXPECT_EQ(full.size(), TraceState::kMaxEntries);
  EXPECT_EQ(full.entries().front().key, "k39");
  EXPECT_FALSE(full.get("k0"));
}

TEST(TraceStateTest, ToHeaderTruncatesLongEntriesFirst) {
  TraceState ts;
  ASSERT_TRUE(ts.put("big", std::string(200, 'x')));  // > 128 chars, oldest = rightmost
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(ts.put("k" + std::to_string(i), std::string(30, 'v')));
  std::string h = ts.to_header();
  EXPECT_LE(h.size(), TraceState::kMaxHeaderLength);
  EXPECT_EQ(h.find("big="), std::string::npos);
  EXPECT_NE(h.find("k0="), std::string::npos);
  EXPECT_NE(h.find("k9="), std::string::npos);
}

TEST(TraceContextTest, InvalidTracestateIsDroppedNotFatal) {
  auto ctx = extract_trace_context(kValid, "foo=1,foo=2");
  ASSERT_TRUE(ctx);
  EXPECT_TRUE(ctx->state.empty());
  EXPECT_TRUE(ctx->tracestate_dropped);
  EXPECT_EQ(ctx->parent.trace_id.to_hex(), kTrace);

  auto ok = extract_trace_context(kValid, "foo=1,bar=2");
  ASSERT_TRUE(ok);
  EXPECT_FALSE(ok->tracestate_dropped);
  EXPECT_EQ(ok->state.get("bar"), "2");
  // test_tracestate_included_traceparent_missing: no traceparent, nothing kept.
  EXPECT_FALSE(extract_trace_context("", "foo=1"));
  EXPECT_FALSE(
      extract_trace_context("00-00000000000000000000000000000000-1234567890123456-01", "foo=1"));
}

}  // namespace
}  // namespace pyrometer::common
