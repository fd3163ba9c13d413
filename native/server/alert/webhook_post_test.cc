// Webhook URL checks, log redaction and CA-file loading (the TLS round trip
// against a real https receiver is tests/integration/test_webhook_tls.py).
#include "server/alert/webhook_post.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace pyrometer::server::alert {
namespace {

TEST(WebhookPost, AcceptsHttpAndHttpsUrls) {
  for (const char* ok : {"http://127.0.0.1:9/x", "https://hooks.slack.com/services/T/B/C",
                         "https://[::1]:8443/hook?x=1", "http://example.com", "https://h?q"}) {
    EXPECT_TRUE(check_webhook_url(ok).ok()) << ok;
  }
  for (const char* bad : {"ftp://x/", "https://", "http://:80/", "https://u:p@host/",
                          "http://h:99999/", "http://h:x/", "https://[::1/"}) {
    EXPECT_FALSE(check_webhook_url(bad).ok()) << bad;
  }
}

TEST(WebhookPost, RedactionDropsThePathWhichMayHoldASecret) {
  EXPECT_EQ(redact_webhook_url("https://hooks.slack.com/services/T0/B0/secret"),
            "https://hooks.slack.com/…");
  EXPECT_EQ(redact_webhook_url("http://127.0.0.1:8/"), "http://127.0.0.1:8/…");
  EXPECT_EQ(redact_webhook_url("http://h?token=1"), "http://h/…");
  EXPECT_EQ(redact_webhook_url("http://h"), "http://h");
}

TEST(WebhookPost, CaFileMustHoldAPemCertificate) {
  auto dir = std::filesystem::temp_directory_path() / "pyrometer-webhook-ca-test";
  std::filesystem::create_directories(dir);
  std::string junk = (dir / "junk.pem").string();
  std::ofstream(junk) << "not a certificate\n";
  common::Status st = check_ca_file(junk);
  EXPECT_EQ(st.code(), common::Status::Code::kInvalidArgument);
  EXPECT_NE(st.message().find(junk), std::string::npos) << st.message();
  EXPECT_FALSE(check_ca_file((dir / "missing.pem").string()).ok());
  EXPECT_TRUE(check_ca_file("").ok());  // the system store alone
  std::filesystem::remove_all(dir);
}

TEST(WebhookPost, RefusedConnectionIsUnavailableNotATlsFailure) {
  PostOutcome outcome;
  // Port 1 on loopback: nothing listens there.
  common::Status st = http_post_json("https://127.0.0.1:1/x", "{}", {.timeout_ms = 2000}, &outcome);
  EXPECT_EQ(st.code(), common::Status::Code::kUnavailable);
  EXPECT_FALSE(outcome.tls_verify_failed);
}

}  // namespace
}  // namespace pyrometer::server::alert
