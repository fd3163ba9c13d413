// WebhookSender: delivers alert notifications by HTTP POST (JSON) from its
// own thread, with retries and exponential backoff, so a slow or dead
// receiver never delays rule evaluation.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "common/status.h"

namespace pyrometer::server::alert {

// One POST of `body` to an http://host[:port]/path URL (no TLS), waiting at
// most `timeout_ms` per step. Ok only for a 2xx answer.
common::Status http_post_json(const std::string& url, const std::string& body, int timeout_ms);

// Thread-safe. The queue is bounded (kMaxQueued); a full queue drops the
// notification and counts it. stop() (or the destructor) joins the thread;
// queued notifications not yet sent are dropped then.
class WebhookSender {
 public:
  static constexpr size_t kMaxQueued = 1000;
  static constexpr int kAttempts = 4;  // 1 + 3 retries, backoff 0.5 s, 1 s, 2 s

  WebhookSender();
  ~WebhookSender();
  void send(std::string url, std::string body);
  void stop();

  uint64_t sent() const { return sent_.load(); }
  uint64_t failed() const { return failed_.load(); }    // gave up after every attempt
  uint64_t dropped() const { return dropped_.load(); }  // queue full

 private:
  void run();
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<std::string, std::string>> queue_;  // guarded by mu_
  bool stopping_ = false;                                  // guarded by mu_
  std::atomic<uint64_t> sent_{0}, failed_{0}, dropped_{0};
  std::thread thread_;
};

}  // namespace pyrometer::server::alert
