// Rule evaluation loop, alert state machine, event log and notifications.
#include "server/alert/alert_manager.h"

#include <cstdio>

#include "server/alert/condition.h"
#include "server/query/json_writer.h"
#include "server/query/time_range.h"

namespace pyrometer::server::alert {

using common::Status;

AlertManager::AlertManager(store::Store* store, AlertOptions options)
    : store_(store),
      options_(std::move(options)),
      sender_(PostOptions{.timeout_ms = 5000, .ca_file = options_.webhook_ca_file}) {
  if (options_.default_rules) {
    for (auto& r : default_rules()) rules_[r.id] = std::move(r);
  }
}

AlertManager::~AlertManager() { stop(); }

void AlertManager::start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
}

void AlertManager::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  sender_.stop();
}

void AlertManager::run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    if (cv_.wait_for(lock, options_.interval, [this] { return stopping_; })) return;
    lock.unlock();
    evaluate(query::now_unix_nano());
    lock.lock();
  }
}

Status AlertManager::put_rule(Rule rule, std::string* id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (rule.id.empty()) {
    while (rules_.count("rule-" + std::to_string(next_id_))) ++next_id_;
    rule.id = "rule-" + std::to_string(next_id_++);
  }
  if (!rules_.count(rule.id) && rules_.size() >= kMaxRules) {
    return Status::invalid_argument("too many rules (at most " + std::to_string(kMaxRules) + ")");
  }
  // A changed rule starts over: its old states no longer mean anything.
  for (auto it = states_.begin(); it != states_.end();) {
    it = it->first.first == rule.id ? states_.erase(it) : std::next(it);
  }
  *id = rule.id;
  rules_[rule.id] = std::move(rule);
  return Status::ok_status();
}

bool AlertManager::delete_rule(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = states_.begin(); it != states_.end();) {
    it = it->first.first == id ? states_.erase(it) : std::next(it);
  }
  return rules_.erase(id) > 0;
}

std::vector<Rule> AlertManager::rules() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Rule> out;
  for (const auto& [id, r] : rules_) out.push_back(r);
  return out;
}

bool AlertManager::get_rule(const std::string& id, Rule* out) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = rules_.find(id);
  if (it == rules_.end()) return false;
  *out = it->second;
  return true;
}

std::vector<AlertEvent> AlertManager::events(uint64_t after, size_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<AlertEvent> out;
  for (const auto& e : events_) {
    if (e.seq > after && out.size() < limit) out.push_back(e);
  }
  return out;
}

std::vector<AlertEvent> AlertManager::active() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<AlertEvent> out;
  for (const auto& [key, s] : states_) {
    if (s.state == "ok") continue;
    auto r = rules_.find(key.first);
    if (r == rules_.end()) continue;
    AlertEvent e;
    e.time_unix_nano = s.since;
    e.rule_id = r->second.id;
    e.rule_name = r->second.name;
    e.service = key.second;
    e.endpoint = r->second.endpoint;
    e.metric = r->second.metric;
    e.severity = r->second.severity;
    e.state = s.state;
    e.value = s.value;
    e.threshold = r->second.threshold;
    e.op = r->second.op;
    out.push_back(std::move(e));
  }
  return out;
}

void AlertManager::evaluate(uint64_t now) {
  std::vector<Rule> rules;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, r] : rules_) {
      if (r.enabled) rules.push_back(r);
    }
  }
  for (const Rule& r : rules) {
    std::map<std::string, double> values;
    Status st = measure(store_, r, now, &values);
    if (!st.ok()) {
      if (eval_errors_.fetch_add(1) == 0) {
        std::fprintf(stderr, "pyrometer-server: alert rule %s: %s (further errors counted)\n",
                     r.id.c_str(), st.to_string().c_str());
      }
      continue;
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (!rules_.count(r.id)) continue;  // deleted meanwhile
    // Services with state but no value this time (no data) count as recovered.
    for (auto& [key, s] : states_) {
      if (key.first == r.id && !values.count(key.second) && s.state != "ok") {
        values[key.second] = r.op == "<" ? r.threshold + 1 : r.threshold - 1;
      }
    }
    for (const auto& [service, v] : values) {
      State& s = states_[{r.id, service}];
      s.value = v;
      bool bad = breached(r, v);
      if (bad && s.state == "ok") {
        s.state = "pending";
        s.since = now;
        record(r, service, "pending", v, now);
      }
      if (bad && s.state == "pending" && now - s.since >= r.for_ns) {
        s.state = "firing";
        s.since = now;
        record(r, service, "firing", v, now);
      }
      if (!bad && s.state != "ok") {
        record(r, service, s.state == "firing" ? "resolved" : "ok", v, now);
        s.state = "ok";
        s.since = now;
      }
    }
  }
}

void AlertManager::record(const Rule& r, const std::string& service, const std::string& state,
                          double value, uint64_t now) {
  AlertEvent e;
  e.seq = next_seq_++;
  e.time_unix_nano = now;
  e.rule_id = r.id;
  e.rule_name = r.name;
  e.service = service;
  e.endpoint = r.endpoint;
  e.metric = r.metric;
  e.severity = r.severity;
  e.state = state;
  e.value = value;
  e.threshold = r.threshold;
  e.op = r.op;
  events_.push_back(e);
  if (events_.size() > kMaxEvents) events_.pop_front();
  if (state == "firing" || state == "resolved") notify(r, e);
}

void AlertManager::notify(const Rule& r, const AlertEvent& e) {
  const std::string& url = r.webhook.empty() ? options_.default_webhook : r.webhook;
  if (url.empty()) return;
  sender_.send(url, r.webhook_format == "slack" ? slack_payload(e) : generic_payload(e));
}

std::string generic_payload(const AlertEvent& e) {
  query::JsonWriter w;
  w.begin_object();
  w.key("version");
  w.string("1");
  w.key("status");
  w.string(e.state);
  w.key("rule_id");
  w.string(e.rule_id);
  w.key("rule");
  w.string(e.rule_name);
  w.key("service");
  w.string(e.service);
  w.key("endpoint");
  w.string(e.endpoint);
  w.key("metric");
  w.string(e.metric);
  w.key("op");
  w.string(e.op);
  w.key("value");
  w.number(e.value);
  w.key("threshold");
  w.number(e.threshold);
  w.key("severity");
  w.string(e.severity);
  w.key("time");
  w.string(query::format_rfc3339(e.time_unix_nano));
  w.end_object();
  return w.take();
}

std::string slack_payload(const AlertEvent& e) {
  char value[64];
  std::snprintf(value, sizeof value, "%.4g %s %.4g", e.value, e.op.c_str(), e.threshold);
  std::string head =
      std::string(e.state == "firing" ? ":rotating_light: FIRING" : ":white_check_mark: RESOLVED") +
      " [" + e.severity + "] " + e.rule_name + " — " + e.service +
      (e.endpoint.empty() ? "" : " " + e.endpoint);
  query::JsonWriter w;
  w.begin_object();
  w.key("text");
  w.string(head);
  w.key("attachments");
  w.begin_array();
  w.begin_object();
  w.key("color");
  w.string(e.state == "firing" ? "danger" : "good");
  w.key("text");
  w.string(e.metric + ": " + value);
  w.key("ts");
  w.int64(static_cast<int64_t>(e.time_unix_nano / 1000000000));
  w.end_object();
  w.end_array();
  w.end_object();
  return w.take();
}

}  // namespace pyrometer::server::alert
