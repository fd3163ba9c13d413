// Security headers: the policy function, and every response a real
// HttpServer sends over a socket (JSON, HTML, router 404, malformed request).
#include "server/http/security_headers.h"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <string>

#include "server/http/http_server.h"
#include "server/http/router.h"

namespace pyrometer::server::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

std::string header(const Response& r, std::string_view name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return "<absent>";
}

TEST(SecurityHeaders, DataResponsesGetNoSniffAndNoReferrerOnly) {
  Response r;
  r.set(200, "application/json", "{}");
  add_security_headers("/api/v1/services", &r);
  EXPECT_EQ(header(r, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(header(r, "Referrer-Policy"), "no-referrer");
  EXPECT_EQ(header(r, "Content-Security-Policy"), "<absent>");
  EXPECT_EQ(header(r, "X-Frame-Options"), "<absent>");
}

TEST(SecurityHeaders, HtmlAndRootGetCspAndFrameDenial) {
  for (auto [path, type] : {std::pair{"/", "text/plain"}, std::pair{"/ui/x", "text/html"},
                            std::pair{"/report", "Text/HTML; charset=utf-8"}}) {
    Response r;
    r.set(200, type, "<p>");
    add_security_headers(path, &r);
    EXPECT_EQ(header(r, "Content-Security-Policy"), "default-src 'self'; frame-ancestors 'none'")
        << path;
    EXPECT_EQ(header(r, "X-Frame-Options"), "DENY") << path;
    EXPECT_EQ(header(r, "X-Content-Type-Options"), "nosniff") << path;
  }
  EXPECT_FALSE(is_html_response("/index.js", "application/javascript"));
  EXPECT_FALSE(is_html_response("/x", "text/htmlx"));
}

TEST(SecurityHeaders, HandlerChoiceIsKeptAndNothingDuplicated) {
  Response r;
  r.set(200, "text/html", "<p>");
  r.headers.emplace_back("referrer-policy", "same-origin");
  add_security_headers("/", &r);
  add_security_headers("/", &r);
  int referrer = 0, csp = 0;
  for (const auto& [n, v] : r.headers) {
    referrer += n == "Referrer-Policy" || n == "referrer-policy";
    csp += n == "Content-Security-Policy";
  }
  EXPECT_EQ(referrer, 1);
  EXPECT_EQ(header(r, "referrer-policy"), "same-origin");
  EXPECT_EQ(csp, 1);
}

class SecurityHeadersServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.add("GET", "/", [](const Request&, Response* res) {
      res->set(200, "text/html; charset=utf-8", "<!doctype html><title>p</title>");
    });
    router_.add("GET", "/api/v1/x",
                [](const Request&, Response* res) { res->set(200, "application/json", "{}"); });
    HttpOptions opts;
    opts.port = 0;
    opts.io_threads = 1;
    opts.worker_threads = 2;
    ASSERT_TRUE(HttpServer::start(opts, &router_, &server_).ok());
  }

  // One request on a fresh connection; `raw` is sent verbatim.
  bhttp::response<bhttp::string_body> roundtrip(const std::string& raw) {
    net::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), server_->port()));
    net::write(stream, net::buffer(raw));
    beast::flat_buffer buffer;
    bhttp::response<bhttp::string_body> res;
    bhttp::read(stream, buffer, res);
    return res;
  }

  Router router_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(SecurityHeadersServerTest, EveryResponseOnTheWireCarriesThem) {
  struct Case {
    std::string raw;
    int status;
    bool html;
  };
  const Case cases[] = {
      {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 200, true},
      {"GET /api/v1/x HTTP/1.1\r\nHost: x\r\n\r\n", 200, false},
      {"GET /missing HTTP/1.1\r\nHost: x\r\n\r\n", 404, false},
      {"GET /api/v1/x HTTP/1.1\r\nHost: x\r\nContent-Length: zz\r\n\r\n", 400, false},
  };
  for (const auto& c : cases) {
    auto res = roundtrip(c.raw);
    EXPECT_EQ(res.result_int(), c.status) << c.raw;
    EXPECT_EQ(res["X-Content-Type-Options"], "nosniff") << c.raw;
    EXPECT_EQ(res["Referrer-Policy"], "no-referrer") << c.raw;
    if (c.html) {
      EXPECT_EQ(res["Content-Security-Policy"], kContentSecurityPolicy) << c.raw;
      EXPECT_EQ(res["X-Frame-Options"], "DENY") << c.raw;
    } else {
      EXPECT_EQ(res.count("Content-Security-Policy"), 0u) << c.raw;
      EXPECT_EQ(res.count("X-Frame-Options"), 0u) << c.raw;
    }
  }
}

}  // namespace
}  // namespace pyrometer::server::http
