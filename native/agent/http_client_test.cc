// HttpClient against a scripted loopback server: Content-Length and chunked
// bodies, Retry-After, keep-alive reuse, reconnect, refused connections, URLs.
#include "agent/http_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

namespace pyrometer::agent {
namespace {

// Accepts connections one at a time; answers each request on a connection
// with the next scripted raw response; closes after `close_after` answers.
class ScriptedServer {
 public:
  ScriptedServer(std::vector<std::string> responses, int close_after)
      : responses_(std::move(responses)), close_after_(close_after) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    socklen_t len = sizeof(a);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(fd_, 4);
    thread_ = std::thread([this] { run(); });
  }
  ~ScriptedServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  uint16_t port() const { return port_; }
  int accepts() const { return accepts_.load(); }
  std::string last_request() const { return last_; }

 private:
  void run() {
    size_t next = 0;
    while (next < responses_.size()) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      ++accepts_;
      int served = 0;
      std::string buf;
      while (next < responses_.size() && served < close_after_) {
        char tmp[4096];
        size_t end;
        while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
          ssize_t n = ::recv(c, tmp, sizeof(tmp), 0);
          if (n <= 0) break;
          buf.append(tmp, static_cast<size_t>(n));
        }
        if (end == std::string::npos) break;
        size_t cl = buf.find("Content-Length: ");
        size_t body = std::stoul(buf.substr(cl + 16));
        while (buf.size() < end + 4 + body) {
          ssize_t n = ::recv(c, tmp, sizeof(tmp), 0);
          if (n <= 0) break;
          buf.append(tmp, static_cast<size_t>(n));
        }
        last_ = buf.substr(0, end + 4 + body);
        buf.erase(0, end + 4 + body);
        const std::string& r = responses_[next++];
        ::send(c, r.data(), r.size(), MSG_NOSIGNAL);
        ++served;
      }
      ::close(c);
    }
  }
  std::vector<std::string> responses_;
  int close_after_;
  int fd_;
  uint16_t port_;
  std::atomic<int> accepts_{0};
  std::string last_;
  std::thread thread_;
};

HttpUrl url_for(uint16_t port) {
  HttpUrl u;
  EXPECT_TRUE(HttpUrl::parse("http://127.0.0.1:" + std::to_string(port) + "/v1/traces", &u).ok());
  return u;
}

TEST(HttpClientTest, ContentLengthChunkedAndKeepAlive) {
  ScriptedServer server(
      {"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhe\r\n3;x=1\r\nllo\r\n0\r\n\r\n"},
      /*close_after=*/10);
  HttpClient client;
  HttpResponse r;
  ASSERT_TRUE(client.post(url_for(server.port()), {{"X-A", "1"}}, "payload", &r).ok());
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "abc");
  EXPECT_NE(server.last_request().find("X-A: 1\r\n"), std::string::npos);
  EXPECT_NE(server.last_request().find("\r\n\r\npayload"), std::string::npos);
  ASSERT_TRUE(client.post(url_for(server.port()), {}, "p2", &r).ok());
  EXPECT_EQ(r.body, "hello");
  EXPECT_EQ(server.accepts(), 1);  // same connection reused
}

TEST(HttpClientTest, RetryAfterAndReconnectWhenServerClosedIdleConnection) {
  ScriptedServer server({"HTTP/1.1 429 Too Many\r\nRetry-After: 7\r\nContent-Length: 0\r\n\r\n",
                         "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"},
                        /*close_after=*/1);
  HttpClient client;
  HttpResponse r;
  ASSERT_TRUE(client.post(url_for(server.port()), {}, "x", &r).ok());
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.retry_after_s, 7);
  // The server closed the kept-alive connection: the client reconnects once.
  ASSERT_TRUE(client.post(url_for(server.port()), {}, "y", &r).ok());
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.retry_after_s, -1);
  EXPECT_EQ(server.accepts(), 2);
}

TEST(HttpClientTest, RefusedConnectionIsUnavailable) {
  uint16_t port;
  {
    ScriptedServer server({}, 1);  // grab a free port, then release it
    port = server.port();
  }
  HttpClient client;
  HttpResponse r;
  common::Status s = client.post(url_for(port), {}, "x", &r);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), common::Status::Code::kUnavailable);
}

TEST(HttpClientTest, ParsesUrlsAndRejectsHttps) {
  HttpUrl u;
  ASSERT_TRUE(HttpUrl::parse("http://collector:4318/v1/metrics", &u).ok());
  EXPECT_EQ(u.host, "collector");
  EXPECT_EQ(u.port, 4318);
  EXPECT_EQ(u.path, "/v1/metrics");
  ASSERT_TRUE(HttpUrl::parse("http://[::1]/x", &u).ok());
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 80);
  EXPECT_FALSE(HttpUrl::parse("https://collector/v1/traces", &u).ok());
  EXPECT_FALSE(HttpUrl::parse("http://host:99999/", &u).ok());
}

}  // namespace
}  // namespace pyrometer::agent
