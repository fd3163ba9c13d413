// AlertManager: holds the rules, evaluates them every interval on its own
// thread, keeps per (rule, service) state ok → pending → firing → resolved,
// records events and hands notifications to the WebhookSender.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "server/alert/rule.h"
#include "server/alert/webhook.h"
#include "server/store/store.h"

namespace pyrometer::server::alert {

struct AlertEvent {
  uint64_t seq = 0;
  uint64_t time_unix_nano = 0;
  std::string rule_id, rule_name, service, endpoint, metric, severity;
  std::string state;  // pending | firing | resolved | ok (pending that cleared)
  double value = 0, threshold = 0;
  std::string op;
};

struct AlertOptions {
  std::chrono::milliseconds interval{15000};
  std::string default_webhook;  // for rules without one ("" = events only)
  std::string webhook_ca_file;  // extra trusted CA (PEM) for https webhooks
  bool default_rules = true;
};

// Thread-safe. `store` must outlive the manager. start() launches the
// evaluator; stop() (or the destructor) joins it and the webhook thread.
class AlertManager {
 public:
  static constexpr size_t kMaxEvents = 10000;
  static constexpr size_t kMaxRules = 1000;

  AlertManager(store::Store* store, AlertOptions options);
  ~AlertManager();

  void start();
  void stop();

  // Adds (or, with an existing id, replaces) a rule; assigns an id when empty.
  // InvalidArgument past kMaxRules.
  common::Status put_rule(Rule rule, std::string* id);
  bool delete_rule(const std::string& id);
  std::vector<Rule> rules();
  bool get_rule(const std::string& id, Rule* out);

  // Events with seq > after, oldest first, at most `limit`.
  std::vector<AlertEvent> events(uint64_t after, size_t limit);
  // Current non-ok alert states, as events (state pending or firing).
  std::vector<AlertEvent> active();

  // One evaluation pass at `now` (the thread calls this; tests may too).
  void evaluate(uint64_t now_unix_nano);

  uint64_t evaluation_errors() const { return eval_errors_.load(); }
  const WebhookSender& webhooks() const { return sender_; }

 private:
  struct State {
    std::string state = "ok";
    uint64_t since = 0;
    double value = 0;
  };
  void record(const Rule& r, const std::string& service, const std::string& state, double value,
              uint64_t now);
  void notify(const Rule& r, const AlertEvent& e);
  void run();

  store::Store* store_;
  AlertOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Rule> rules_;                            // guarded by mu_
  std::map<std::pair<std::string, std::string>, State> states_;  // guarded by mu_
  std::deque<AlertEvent> events_;                                // guarded by mu_
  uint64_t next_seq_ = 1;                                        // guarded by mu_
  uint64_t next_id_ = 1;                                         // guarded by mu_
  bool stopping_ = false;                                        // guarded by mu_
  std::atomic<uint64_t> eval_errors_{0};
  WebhookSender sender_;
  std::thread thread_;
};

// JSON payloads: generic ({"version", "status", "rule", "service", ...}) and
// Slack-compatible ({"text", "attachments"}).
std::string generic_payload(const AlertEvent& e);
std::string slack_payload(const AlertEvent& e);

}  // namespace pyrometer::server::alert
