// Flag parsing tests: defaults, every flag, both spellings, and that each bad
// value is refused with a message naming the flag.
#include "server/server_options.h"

#include <gtest/gtest.h>

#include <vector>

namespace pyrometer::server {
namespace {

common::Status parse(std::vector<const char*> args, ServerOptions* out) {
  args.insert(args.begin(), "pyrometer-server");
  return parse_server_options(static_cast<int>(args.size()), args.data(), out);
}

TEST(ServerOptions, Defaults) {
  ServerOptions o;
  ASSERT_TRUE(parse({}, &o).ok());
  EXPECT_EQ(o.host, "127.0.0.1");
  EXPECT_EQ(o.port, 8321);
  EXPECT_EQ(o.storage, "embedded");
  EXPECT_EQ(o.retention, std::chrono::hours(24 * 7));
  EXPECT_EQ(o.max_body_bytes, 64u << 20);
  EXPECT_EQ(o.fsync_interval, std::chrono::milliseconds(5));
  EXPECT_NE(o.data_dir.find("pyrometer"), std::string::npos);
}

TEST(ServerOptions, EveryFlag) {
  ServerOptions o;
  common::Status st =
      parse({"--data", "/tmp/d", "--listen=[::1]:9000", "--retention", "48h", "--max-disk", "2GiB",
             "--max-memory=512MB", "--max-body", "1MiB", "--fsync-interval", "0ms", "--threads",
             "3", "--storage", "clickhouse://h:9000/db"},
            &o);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(o.data_dir, "/tmp/d");
  EXPECT_EQ(o.host, "::1");
  EXPECT_EQ(o.port, 9000);
  EXPECT_EQ(o.retention, std::chrono::hours(48));
  EXPECT_EQ(o.max_disk_bytes, 2ull << 30);
  EXPECT_EQ(o.max_memory_bytes, 512'000'000u);
  EXPECT_EQ(o.max_body_bytes, 1u << 20);
  EXPECT_EQ(o.fsync_interval.count(), 0);
  EXPECT_EQ(o.threads, 3);
  EXPECT_EQ(o.storage, "clickhouse://h:9000/db");
}

TEST(ServerOptions, BadValuesNameTheFlag) {
  struct Case {
    std::vector<const char*> args;
    const char* flag;
  };
  std::vector<Case> cases = {
      {{"--listen", "nohostport"}, "--listen"},
      {{"--listen", "h:99999"}, "--listen"},
      {{"--retention", "7x"}, "--retention"},
      {{"--max-disk", "lots"}, "--max-disk"},
      {{"--max-body", "10"}, "--max-body"},
      {{"--threads", "0"}, "--threads"},
      {{"--storage", "mysql"}, "--storage"},
      {{"--bogus"}, "--bogus"},
      {{"--data"}, "--data"},
      {{"--fsync-interval", "1h"}, "--fsync-interval"},
  };
  for (const auto& c : cases) {
    ServerOptions o;
    common::Status st = parse(c.args, &o);
    EXPECT_FALSE(st.ok()) << c.flag;
    EXPECT_NE(st.message().find(c.flag), std::string::npos) << st.message();
  }
}

TEST(ServerOptions, HttpsWebhookAndItsCaFile) {
  ServerOptions o;
  ASSERT_TRUE(parse({"--alert-webhook", "https://hooks.slack.com/services/x",
                     "--webhook-ca-file=/etc/ca.pem"},
                    &o)
                  .ok());
  EXPECT_EQ(o.alert_webhook, "https://hooks.slack.com/services/x");
  EXPECT_EQ(o.webhook_ca_file, "/etc/ca.pem");
  common::Status st = parse({"--alert-webhook", "ftp://x"}, &o);
  EXPECT_NE(st.message().find("--alert-webhook"), std::string::npos) << st.message();
  st = parse({"--webhook-ca-file="}, &o);
  EXPECT_NE(st.message().find("--webhook-ca-file"), std::string::npos) << st.message();
}

TEST(ServerOptions, Loopback) {
  EXPECT_TRUE(is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(is_loopback_host("127.0.0.2"));
  EXPECT_TRUE(is_loopback_host("localhost"));
  EXPECT_TRUE(is_loopback_host("::1"));
  EXPECT_FALSE(is_loopback_host("0.0.0.0"));
  EXPECT_FALSE(is_loopback_host("10.1.2.3"));
  EXPECT_FALSE(is_loopback_host("::"));
  EXPECT_FALSE(is_loopback_host("example.com"));
}

TEST(ServerOptions, SizesAndDurations) {
  uint64_t n = 0;
  EXPECT_TRUE(parse_size("10GB", &n));
  EXPECT_EQ(n, 10'000'000'000u);
  EXPECT_TRUE(parse_size("64mib", &n));
  EXPECT_EQ(n, 64u << 20);
  EXPECT_FALSE(parse_size("-1", &n));
  EXPECT_FALSE(parse_size("99999999999999999999", &n));
  std::chrono::nanoseconds d{};
  EXPECT_TRUE(parse_duration("7d", &d));
  EXPECT_EQ(d, std::chrono::hours(168));
  EXPECT_TRUE(parse_duration("250us", &d));
  EXPECT_EQ(d, std::chrono::microseconds(250));
  EXPECT_FALSE(parse_duration("5", &d));
}

}  // namespace
}  // namespace pyrometer::server
