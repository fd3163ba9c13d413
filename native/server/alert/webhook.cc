// Plain HTTP/1.1 POST over a blocking socket with timeouts, and the retrying
// sender thread. Webhook targets are operator-configured, so no TLS here: put
// a relay in front of https-only receivers (Slack incoming webhooks).
#include "server/alert/webhook.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>

namespace pyrometer::server::alert {

namespace {

using common::Status;

bool wait_fd(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, timeout_ms) == 1 && (p.revents & (events | POLLHUP)) != 0;
}

}  // namespace

Status http_post_json(const std::string& url, const std::string& body, int timeout_ms) {
  if (url.rfind("http://", 0) != 0) return Status::invalid_argument("webhook URL must be http://");
  std::string rest = url.substr(7);
  size_t slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  std::string path = slash == std::string::npos ? "/" : rest.substr(slash);
  std::string host = hostport, port = "80";
  size_t colon = hostport.rfind(':');
  if (colon != std::string::npos && hostport.find(']') == std::string::npos) {
    host = hostport.substr(0, colon);
    port = hostport.substr(colon + 1);
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || res == nullptr) {
    return Status::unavailable("cannot resolve " + host);
  }
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    freeaddrinfo(res);
    return Status::io_error("socket failed");
  }
  int rc = ::connect(fd, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  auto fail = [fd](const std::string& why) {
    ::close(fd);
    return Status::unavailable(why);
  };
  if (rc != 0 && errno != EINPROGRESS)
    return fail("connect failed: " + std::string(strerror(errno)));
  if (!wait_fd(fd, POLLOUT, timeout_ms)) return fail("connect timed out");
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) return fail("connect failed: " + std::string(strerror(err)));
  std::string req = "POST " + path + " HTTP/1.1\r\nHost: " + hostport +
                    "\r\nContent-Type: application/json\r\nUser-Agent: pyrometer-server\r\n"
                    "Connection: close\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n\r\n" + body;
  size_t off = 0;
  while (off < req.size()) {
    if (!wait_fd(fd, POLLOUT, timeout_ms)) return fail("send timed out");
    ssize_t n = ::send(fd, req.data() + off, req.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return fail("send failed");
    off += static_cast<size_t>(n);
  }
  std::string head;
  char buf[512];
  while (head.find("\r\n") == std::string::npos && head.size() < 4096) {
    if (!wait_fd(fd, POLLIN, timeout_ms)) return fail("no answer");
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    head.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  int status = 0;
  if (std::sscanf(head.c_str(), "HTTP/%*s %d", &status) != 1) {
    return Status::unavailable("no HTTP status line");
  }
  if (status < 200 || status > 299) return Status::unavailable("HTTP " + std::to_string(status));
  return Status::ok_status();
}

WebhookSender::WebhookSender() : thread_([this] { run(); }) {}

WebhookSender::~WebhookSender() { stop(); }

void WebhookSender::send(std::string url, std::string body) {
  std::lock_guard<std::mutex> lock(mu_);
  if (queue_.size() >= kMaxQueued || stopping_) {
    dropped_.fetch_add(1);
    return;
  }
  queue_.emplace_back(std::move(url), std::move(body));
  cv_.notify_one();
}

void WebhookSender::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

void WebhookSender::run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    auto [url, body] = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    bool ok = false;
    Status last;
    for (int attempt = 0; attempt < kAttempts && !ok; ++attempt) {
      if (attempt > 0) {
        std::unique_lock<std::mutex> wait(mu_);
        if (cv_.wait_for(wait, std::chrono::milliseconds(500 << (attempt - 1)),
                         [this] { return stopping_; })) {
          return;
        }
      }
      last = http_post_json(url, body, 5000);
      ok = last.ok();
    }
    if (ok) {
      sent_.fetch_add(1);
    } else if (failed_.fetch_add(1) == 0) {
      std::fprintf(stderr,
                   "pyrometer-server: webhook %s failed after %d attempts: %s "
                   "(further failures are only counted)\n",
                   url.c_str(), kAttempts, last.to_string().c_str());
    }
    lock.lock();
  }
}

}  // namespace pyrometer::server::alert
