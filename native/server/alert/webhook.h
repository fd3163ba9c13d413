// WebhookSender: delivers alert notifications by HTTP(S) POST (JSON) from its
// own thread, with retries and exponential backoff, so a slow or dead
// receiver never delays rule evaluation.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "common/status.h"
#include "server/alert/webhook_post.h"

namespace pyrometer::server::alert {

// Thread-safe. The queue is bounded (kMaxQueued); a full queue drops the
// notification and counts it. stop() (or the destructor) joins the thread;
// queued notifications not yet sent are dropped then. A webhook that gives
// up is logged once (per URL, path redacted); later failures are only counted.
class WebhookSender {
 public:
  static constexpr size_t kMaxQueued = 1000;
  static constexpr int kAttempts = 4;  // 1 + 3 retries, backoff 0.5 s, 1 s, 2 s

  static constexpr size_t kMaxLoggedUrls = 1000;

  // `options` apply to every POST (timeout, extra CA file for https).
  explicit WebhookSender(PostOptions options = {});
  ~WebhookSender();
  void send(std::string url, std::string body);
  void stop();

  uint64_t sent() const { return sent_.load(); }
  uint64_t failed() const { return failed_.load(); }    // gave up after every attempt
  uint64_t dropped() const { return dropped_.load(); }  // queue full
  // Attempts whose https receiver failed certificate or host-name checks.
  uint64_t tls_verify_failures() const { return tls_verify_failures_.load(); }

 private:
  void run();
  void report_failure(const std::string& url, int attempts, const common::Status& last);
  const PostOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<std::string, std::string>> queue_;  // guarded by mu_
  bool stopping_ = false;                                  // guarded by mu_
  std::atomic<uint64_t> sent_{0}, failed_{0}, dropped_{0}, tls_verify_failures_{0};
  std::set<std::string> logged_urls_;  // sender thread only
  std::thread thread_;
};

}  // namespace pyrometer::server::alert
