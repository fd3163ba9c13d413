// HttpClient implementation on POSIX sockets with poll() timeouts. Parses just
// enough of HTTP/1.1 for OTLP: status line, Content-Length, chunked, Retry-After.
#include "agent/http_client.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pyrometer::agent {
namespace {

using common::Status;

Status errno_status(const char* what) {
  return Status::unavailable(std::string(what) + ": " + std::strerror(errno));
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool parse_u64(std::string_view s, int base, uint64_t* out) {
  if (s.empty()) return false;
  uint64_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (base == 16 && c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else if (base == 16 && c >= 'A' && c <= 'F')
      d = c - 'A' + 10;
    else
      return false;
    if (v > (UINT64_MAX - d) / base) return false;
    v = v * base + d;
  }
  *out = v;
  return true;
}

}  // namespace

Status HttpUrl::parse(std::string_view url, HttpUrl* out) {
  constexpr std::string_view kHttp = "http://";
  if (url.substr(0, 8) == "https://") {
    return Status::invalid_argument("https is not supported by the agent exporter (no TLS): " +
                                    std::string(url));
  }
  if (url.substr(0, kHttp.size()) != kHttp) {
    return Status::invalid_argument("exporter URL must start with http://: " + std::string(url));
  }
  url.remove_prefix(kHttp.size());
  size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  out->path = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  out->port = 80;
  if (!authority.empty() && authority.front() == '[') {  // [v6]:port
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return Status::invalid_argument("bad IPv6 host in URL");
    out->host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    if (!authority.empty() && authority.front() != ':') {
      return Status::invalid_argument("bad URL authority");
    }
  } else {
    size_t colon = authority.rfind(':');
    out->host = std::string(authority.substr(0, colon));
    authority = colon == std::string_view::npos ? std::string_view() : authority.substr(colon);
  }
  if (!authority.empty()) {
    uint64_t port = 0;
    if (!parse_u64(authority.substr(1), 10, &port) || port == 0 || port > 65535) {
      return Status::invalid_argument("bad port in URL");
    }
    out->port = static_cast<uint16_t>(port);
  }
  if (out->host.empty()) return Status::invalid_argument("URL without host");
  return Status();
}

void HttpClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buf_.clear();
}

void HttpClient::abandon_after_fork() {
  // Closing our copy of the descriptor leaves the parent's connection intact.
  close();
}

Status HttpClient::connect_to(const HttpUrl& url) {
  if (fd_ >= 0 && conn_host_ == url.host && conn_port_ == url.port) return Status();
  close();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string port = std::to_string(url.port);
  int rc = getaddrinfo(url.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) return Status::unavailable("resolve " + url.host + ": " + gai_strerror(rc));
  Status last = Status::unavailable("no address for " + url.host);
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
      last = errno_status("socket");
      continue;
    }
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
      last = errno_status("connect");
      ::close(fd);
      continue;
    }
    pollfd p{fd, POLLOUT, 0};
    int n = ::poll(&p, 1, static_cast<int>(opts_.connect_timeout.count()));
    int err = 0;
    socklen_t len = sizeof(err);
    if (n <= 0) {
      last = Status::unavailable("connect timeout to " + url.host + ":" + port);
      ::close(fd);
      continue;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      errno = err;
      last = errno_status("connect");
      ::close(fd);
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fd_ = fd;
    conn_host_ = url.host;
    conn_port_ = url.port;
    freeaddrinfo(res);
    return Status();
  }
  freeaddrinfo(res);
  return last;
}

Status HttpClient::send_all(std::string_view data, int flags) {
  while (!data.empty()) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL | flags);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd_, POLLOUT, 0};
      int r = ::poll(&p, 1, static_cast<int>(opts_.read_timeout.count()));
      if (r <= 0) return Status::unavailable("send timeout");
      continue;
    }
    return errno_status("send");
  }
  return Status();
}

Status HttpClient::fill(bool* eof) {
  *eof = false;
  char tmp[16384];
  for (;;) {
    ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
    if (n > 0) {
      buf_.append(tmp, static_cast<size_t>(n));
      return Status();
    }
    if (n == 0) {
      *eof = true;
      return Status();
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return errno_status("recv");
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(opts_.read_timeout.count()));
    if (r == 0) return Status::unavailable("read timeout");
    if (r < 0 && errno != EINTR) return errno_status("poll");
  }
}

Status HttpClient::read_response(HttpResponse* out, bool* got_any_byte) {
  *got_any_byte = false;
  size_t header_end;
  bool eof = false;
  while ((header_end = buf_.find("\r\n\r\n")) == std::string::npos) {
    if (buf_.size() > 64 * 1024) return Status::unavailable("response headers too large");
    Status s = fill(&eof);
    if (!s.ok()) return s;
    if (eof) return Status::unavailable("connection closed before response");
    *got_any_byte = true;
  }
  *got_any_byte = true;
  std::string_view head(buf_.data(), header_end);
  size_t line_end = head.find("\r\n");
  std::string_view status_line = head.substr(0, line_end);
  if (status_line.substr(0, 5) != "HTTP/" || status_line.size() < 12) {
    return Status::unavailable("bad status line");
  }
  uint64_t code = 0;
  if (!parse_u64(status_line.substr(9, 3), 10, &code)) return Status::unavailable("bad status");
  out->status = static_cast<int>(code);
  out->retry_after_s = -1;
  out->body.clear();
  bool chunked = false, keep_alive = true;
  int64_t content_length = -1;
  std::string_view rest = line_end == std::string_view::npos ? "" : head.substr(line_end + 2);
  while (!rest.empty()) {
    size_t e = rest.find("\r\n");
    std::string_view line = rest.substr(0, e);
    rest = e == std::string_view::npos ? "" : rest.substr(e + 2);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = trim(line.substr(0, colon)), value = trim(line.substr(colon + 1));
    uint64_t v = 0;
    if (iequals(name, "content-length")) {
      if (!parse_u64(value, 10, &v)) return Status::unavailable("bad Content-Length");
      content_length = static_cast<int64_t>(v);
    } else if (iequals(name, "transfer-encoding")) {
      chunked = value.find("chunked") != std::string_view::npos;
    } else if (iequals(name, "connection")) {
      keep_alive = !iequals(value, "close");
    } else if (iequals(name, "retry-after") && parse_u64(value, 10, &v)) {
      out->retry_after_s = static_cast<int>(std::min<uint64_t>(v, 3600));
    }
  }
  buf_.erase(0, header_end + 4);
  if (chunked) {
    for (;;) {
      size_t e;
      while ((e = buf_.find("\r\n")) == std::string::npos) {
        Status s = fill(&eof);
        if (!s.ok()) return s;
        if (eof) return Status::unavailable("truncated chunked body");
      }
      std::string_view size_field(buf_.data(), e);
      size_field = trim(size_field.substr(0, size_field.find(';')));
      uint64_t size = 0;
      if (!parse_u64(size_field, 16, &size)) return Status::unavailable("bad chunk size");
      if (out->body.size() + size > opts_.max_response_bytes) {
        return Status::unavailable("response body too large");
      }
      while (buf_.size() < e + 2 + size + 2) {
        Status s = fill(&eof);
        if (!s.ok()) return s;
        if (eof) return Status::unavailable("truncated chunk");
      }
      out->body.append(buf_, e + 2, size);
      buf_.erase(0, e + 2 + size + 2);
      if (size == 0) break;  // trailers are not used by OTLP servers; the CRLF was consumed
    }
  } else if (content_length >= 0) {
    if (static_cast<uint64_t>(content_length) > opts_.max_response_bytes) {
      return Status::unavailable("response body too large");
    }
    while (buf_.size() < static_cast<size_t>(content_length)) {
      Status s = fill(&eof);
      if (!s.ok()) return s;
      if (eof) return Status::unavailable("truncated body");
    }
    out->body.assign(buf_, 0, static_cast<size_t>(content_length));
    buf_.erase(0, static_cast<size_t>(content_length));
  } else if (code != 204 && code != 304 && code >= 200) {
    // No length: the body runs to connection close.
    for (;;) {
      Status s = fill(&eof);
      if (!s.ok()) return s;
      if (eof) break;
      if (buf_.size() > opts_.max_response_bytes) return Status::unavailable("body too large");
    }
    out->body = std::move(buf_);
    buf_.clear();
    keep_alive = false;
  }
  if (!keep_alive) close();
  return Status();
}

Status HttpClient::post(const HttpUrl& url,
                        const std::vector<std::pair<std::string, std::string>>& headers,
                        std::string_view body, HttpResponse* out) {
  // Head and body go out as two sends (the head with MSG_MORE, so one segment
  // when they fit): the body is never copied.
  std::string req;
  req.reserve(256);
  req += "POST ";
  req += url.path;
  req += " HTTP/1.1\r\nHost: ";
  req += url.host;
  if (url.port != 80) req += ":" + std::to_string(url.port);
  req += "\r\nUser-Agent: pyrometer-agent\r\nConnection: keep-alive\r\n";
  for (const auto& [k, v] : headers) {
    req += k;
    req += ": ";
    req += v;
    req += "\r\n";
  }
  req += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool reused = fd_ >= 0;
    Status s = connect_to(url);
    if (!s.ok()) return s;
    buf_.clear();
    s = send_all(req, body.empty() ? 0 : MSG_MORE);
    if (s.ok()) s = send_all(body);
    bool got_any = false;
    if (s.ok()) s = read_response(out, &got_any);
    if (s.ok()) return s;
    close();
    // A keep-alive connection the server closed while idle fails before any
    // response byte: retry once on a fresh connection. Otherwise report.
    if (!reused || got_any) return s;
  }
  return Status::unavailable("connection failed");
}

}  // namespace pyrometer::agent
