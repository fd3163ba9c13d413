// The retrying webhook sender thread; one POST (http or https, see
// webhook_post.cc) per attempt.
#include "server/alert/webhook.h"

#include <chrono>
#include <cstdio>

namespace pyrometer::server::alert {

using common::Status;

WebhookSender::WebhookSender(PostOptions options)
    : options_(std::move(options)), thread_([this] { run(); }) {}

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
      PostOutcome outcome;
      last = http_post_json(url, body, options_, &outcome);
      ok = last.ok();
      if (outcome.tls_verify_failed) tls_verify_failures_.fetch_add(1);
    }
    if (ok) {
      sent_.fetch_add(1);
    } else {
      failed_.fetch_add(1);
      report_failure(url, kAttempts, last);
    }
    lock.lock();
  }
}

void WebhookSender::report_failure(const std::string& url, int attempts, const Status& last) {
  std::string shown = redact_webhook_url(url);
  if (logged_urls_.size() >= kMaxLoggedUrls || !logged_urls_.insert(shown).second) return;
  std::fprintf(stderr,
               "pyrometer-server: webhook %s failed after %d attempts: %s%s "
               "(further failures of this webhook are only counted)\n",
               shown.c_str(), attempts, last.to_string().c_str(),
               last.message().find("TLS certificate") != std::string::npos
                   ? " (a private CA? pass --webhook-ca-file PATH)"
                   : "");
}

}  // namespace pyrometer::server::alert
