// HttpServer on Boost.Beast: acceptor, keep-alive sessions (one strand each),
// body limits, gzip bodies, timeouts and graceful shutdown.
//
// Threading: io threads run the io_context and do only network I/O; each
// parsed request is posted to a worker pool (handlers may block on fsync) and
// the response is posted back to the session's strand to be written.
#include "server/http/http_server.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "server/http/content_encoding.h"
#include "server/http/security_headers.h"

namespace pyrometer::server::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kHeaderLimit = 64 * 1024;
// After an early error (413 before the body was read) the rest of the body is
// read and discarded up to this much, so the client sees the response instead
// of a connection reset.
constexpr size_t kDrainLimit = size_t{16} << 20;
// Beast reads into the session buffer at most its free capacity (and at least
// 512 bytes) per recv, and parsing moves the bytes out into the body, so the
// buffer never grows by itself: a 100 KB OTLP body took ~200 recv calls and
// as many async operations (and timer re-arms), a quarter of the server's CPU
// under bench/ingest.py. A body read reserves up to kBodyReadBuffer.
constexpr size_t kBodyReadBuffer = size_t{256} << 10;
constexpr size_t kIdleBuffer = size_t{16} << 10;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

class Session;

class HttpServer::Impl {
 public:
  Impl(const HttpOptions& options, const Router* router)
      : options_(options),
        router_(router),
        acceptor_(ioc_),
        workers_(static_cast<size_t>(options.worker_threads)) {}

  common::Status listen();
  void run_threads();
  void shutdown(std::chrono::milliseconds grace);

  void do_accept();
  void register_session(const std::shared_ptr<Session>& s);
  void unregister_session(Session* s);

  HttpOptions options_;
  const Router* router_;
  // Declared before ioc_ so they outlive it: destroying ioc_ destroys queued
  // handlers, whose Sessions unregister themselves under mu_.
  std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> protocol_errors_{0};
  net::io_context ioc_;
  // Keeps run() from returning while a request sits on the worker pool (it
  // is not io_context work); shutdown() stops the context explicitly.
  net::executor_work_guard<net::io_context::executor_type> work_{ioc_.get_executor()};
  tcp::acceptor acceptor_;
  net::thread_pool workers_;
  std::vector<std::thread> io_threads_;
  uint16_t port_ = 0;
  std::mutex shutdown_mu_;
  bool shut_down_ = false;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, HttpServer::Impl* server)
      : stream_(std::move(socket)), server_(server) {}
  ~Session() { server_->unregister_session(this); }

  void start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read_header(); });
  }

  // Runs on the strand: closes the connection if it waits for a new request.
  void close_if_idle() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      if (self->idle_) self->close();
    });
  }

 private:
  const HttpOptions& opts() const { return server_->options_; }

  void read_header() {
    if (server_->stopping_.load()) return close();
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(opts().max_body_bytes);
    idle_ = buffer_.size() == 0;
    // An idle connection gives the body buffer back: thousands of idle
    // keep-alive connections must not hold 256 KiB each.
    if (idle_ && buffer_.capacity() > kIdleBuffer) buffer_.shrink_to_fit();
    stream_.expires_after(opts().idle_timeout);
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    idle_ = false;
    started_ = Clock::now();
    if (ec) return on_read_error(ec);
    stream_.expires_after(opts().read_timeout);
    const auto& req = parser_->get();
    auto expect = req[bhttp::field::expect];
    if (!expect.empty() && lower(expect) == "100-continue") {
      // Clients like curl wait for this before sending large bodies.
      auto cont = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_,
                                                                       req.version());
      bhttp::async_write(stream_, *cont,
                         [self = shared_from_this(), cont](beast::error_code ec2, size_t) {
                           if (ec2) return self->close();
                           self->read_body();
                         });
      return;
    }
    read_body();
  }

  void read_body() {
    const auto length = parser_->content_length();
    size_t want =
        std::min(length ? static_cast<size_t>(*length) : kBodyReadBuffer, kBodyReadBuffer);
    if (buffer_.capacity() - buffer_.size() < want) buffer_.reserve(buffer_.size() + want);
    bhttp::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->on_body(ec); });
  }

  void on_read_error(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == net::error::operation_aborted ||
        ec == beast::error::timeout || ec == net::error::eof ||
        ec == net::error::connection_reset) {
      return close();
    }
    server_->protocol_errors_.fetch_add(1);
    Request req = header_only_request();
    Response res;
    if (ec == bhttp::error::body_limit) {
      server_->router_->error(
          req, 413, "request body exceeds " + std::to_string(opts().max_body_bytes) + " bytes",
          &res);
    } else if (ec == bhttp::error::header_limit) {
      server_->router_->error(req, 431, "request header too large", &res);
    } else {
      server_->router_->error(req, 400, "malformed HTTP request: " + ec.message(), &res);
    }
    finish(req, std::move(res), /*keep_alive=*/false, /*drain=*/true);
  }

  Request header_only_request() {
    Request req;
    if (!parser_) return req;
    const auto& m = parser_->get();
    req.method = std::string(m.method_string());
    req.target = std::string(m.target());
    size_t q = req.target.find('?');
    req.path = req.target.substr(0, q);
    if (q != std::string::npos) req.query = req.target.substr(q + 1);
    for (const auto& f : m) {
      req.headers.emplace_back(lower(f.name_string()), std::string(f.value()));
    }
    return req;
  }

  void on_body(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    Request req = header_only_request();
    bool keep_alive = parser_->get().keep_alive();
    std::string raw = std::move(parser_->get().body());
    bytes_in_ = raw.size();
    bool unsupported = false;
    common::Status st = decode_content(req.header("content-encoding"), std::move(raw),
                                       opts().max_body_bytes, &req.body, &unsupported);
    if (!st.ok()) {
      Response res;
      int code = unsupported ? 415 : st.code() == common::Status::Code::kTooLarge ? 413 : 400;
      server_->router_->error(req, code, st.message(), &res);
      return finish(req, std::move(res), keep_alive, false);
    }
    // Handlers may block: run them off the io threads.
    auto shared_req = std::make_shared<Request>(std::move(req));
    net::post(server_->workers_, [self = shared_from_this(), shared_req, keep_alive] {
      Response res;
      self->server_->router_->dispatch(*shared_req, &res);
      net::post(self->stream_.get_executor(),
                [self, shared_req, keep_alive, res = std::move(res)]() mutable {
                  self->finish(*shared_req, std::move(res), keep_alive, false);
                });
    });
  }

  // On the strand: reports the response and writes it.
  void finish(const Request& req, Response&& res, bool keep_alive, bool drain) {
    if (opts().on_response) {
      double seconds = std::chrono::duration<double>(Clock::now() - started_).count();
      opts().on_response(req, res, seconds, bytes_in_);
    }
    bytes_in_ = 0;
    keep_alive = keep_alive && !drain && !server_->stopping_.load();
    unsigned version = parser_ ? parser_->get().version() : 11;
    add_security_headers(req.path, &res);
    response_.emplace(static_cast<bhttp::status>(res.status), version);
    response_->set(bhttp::field::server, "pyrometer-server");
    response_->set(bhttp::field::content_type, res.content_type);
    for (auto& [name, value] : res.headers) response_->insert(name, value);
    response_->body() = std::move(res.body);
    response_->keep_alive(keep_alive);
    response_->prepare_payload();
    stream_.expires_after(opts().read_timeout);
    bhttp::async_write(
        stream_, *response_,
        [self = shared_from_this(), keep_alive, drain](beast::error_code ec, size_t) {
          self->response_.reset();
          if (ec) return self->close();
          if (drain) return self->drain();
          if (!keep_alive) return self->close();
          self->read_header();
        });
  }

  // Half-closes, then reads and discards what the client still sends (up to
  // kDrainLimit or the read timeout) so it can read our error response.
  void drain() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    drain_buf_.resize(64 * 1024);
    stream_.expires_after(std::min(opts().read_timeout, std::chrono::milliseconds(2000)));
    drain_more();
  }

  void drain_more() {
    stream_.async_read_some(net::buffer(drain_buf_),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              self->drained_ += n;
                              if (ec || self->drained_ > kDrainLimit) return self->close();
                              self->drain_more();
                            });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  HttpServer::Impl* server_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<bhttp::response<bhttp::string_body>> response_;
  std::vector<char> drain_buf_;
  size_t drained_ = 0;
  size_t bytes_in_ = 0;
  bool idle_ = true;
  Clock::time_point started_ = Clock::now();
};

common::Status HttpServer::Impl::listen() {
  beast::error_code ec;
  std::string where = options_.host + ":" + std::to_string(options_.port);
  tcp::resolver resolver(ioc_);
  auto results = resolver.resolve(options_.host, std::to_string(options_.port),
                                  tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    return common::Status::invalid_argument("cannot resolve listen address " + where + ": " +
                                            ec.message());
  }
  tcp::endpoint endpoint = results.begin()->endpoint();
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return common::Status::io_error("cannot listen on " + where + ": " + ec.message());
  }
  port_ = acceptor_.local_endpoint().port();
  return {};
}

void HttpServer::Impl::do_accept() {
  acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
    if (stopping_.load() || !acceptor_.is_open()) return;
    if (!ec) {
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto session = std::make_shared<Session>(std::move(socket), this);
      register_session(session);
      session->start();
    } else if (ec == net::error::no_descriptors || ec == net::error::no_buffer_space) {
      // Out of file descriptors: back off briefly instead of spinning.
      protocol_errors_.fetch_add(1);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    do_accept();
  });
}

void HttpServer::Impl::register_session(const std::shared_ptr<Session>& s) {
  std::lock_guard<std::mutex> lock(mu_);
  sessions_[s.get()] = s;
}

void HttpServer::Impl::unregister_session(Session* s) {
  std::lock_guard<std::mutex> lock(mu_);
  sessions_.erase(s);
  if (sessions_.empty()) cv_.notify_all();
}

void HttpServer::Impl::run_threads() {
  do_accept();
  int n = std::max(1, options_.io_threads);
  for (int i = 0; i < n; ++i) {
    io_threads_.emplace_back([this] {
      // A throwing completion handler must not kill the server: log-free
      // retry, counted as a protocol error.
      while (true) {
        try {
          ioc_.run();
          return;
        } catch (...) {
          protocol_errors_.fetch_add(1);
        }
      }
    });
  }
}

void HttpServer::Impl::shutdown(std::chrono::milliseconds grace) {
  std::lock_guard<std::mutex> once(shutdown_mu_);
  if (shut_down_) return;
  shut_down_ = true;
  stopping_.store(true);
  net::post(ioc_, [this] {
    beast::error_code ignored;
    acceptor_.close(ignored);
  });
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [ptr, weak] : sessions_) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
  }
  for (auto& s : live) s->close_if_idle();
  live.clear();
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, grace, [this] { return sessions_.empty(); });
  }
  ioc_.stop();
  for (auto& t : io_threads_) t.join();
  io_threads_.clear();
  workers_.join();
}

common::Status HttpServer::start(const HttpOptions& options, const Router* router,
                                 std::unique_ptr<HttpServer>* out) {
  HttpOptions opts = options;
  int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (opts.io_threads <= 0) opts.io_threads = cores;
  if (opts.worker_threads <= 0) opts.worker_threads = std::max(32, 8 * cores);
  auto impl = std::make_unique<Impl>(opts, router);
  common::Status st = impl->listen();
  if (!st.ok()) return st;
  impl->run_threads();
  out->reset(new HttpServer(std::move(impl)));
  return {};
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { shutdown(); }

uint16_t HttpServer::port() const { return impl_->port_; }

void HttpServer::shutdown(std::chrono::milliseconds grace) { impl_->shutdown(grace); }

uint64_t HttpServer::protocol_errors() const { return impl_->protocol_errors_.load(); }

}  // namespace pyrometer::server::http
