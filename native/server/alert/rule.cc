// Rule validation, the default rule set and the rules-file parser.
#include "server/alert/rule.h"

#include <rapidjson/document.h>

#include <cstdlib>
#include <sstream>

#include "server/alert/webhook_post.h"
#include "server/query/time_range.h"

namespace pyrometer::server::alert {

namespace {

using common::Status;

std::string trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t\r");
  return std::string(s.substr(b, e - b + 1));
}

std::string unquote(std::string v) {
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
    return v.substr(1, v.size() - 2);
  }
  return v;
}

// Drops a "# comment" that is not inside quotes.
std::string strip_comment(std::string_view line) {
  char quote = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
      return std::string(line.substr(0, i));
    }
  }
  return std::string(line);
}

bool severity_ok(const std::string& s) {
  return s == "info" || s == "low" || s == "medium" || s == "warning" || s == "high" ||
         s == "critical";
}

}  // namespace

Status rule_from_fields(const std::map<std::string, std::string>& fields, Rule* out) {
  Rule r;
  for (const auto& [k, v] : fields) {
    auto bad = [&](const std::string& want) {
      return Status::invalid_argument("rule field " + k + ": \"" + v.substr(0, 64) + "\" is not " +
                                      want);
    };
    if (k == "id") {
      r.id = v;
    } else if (k == "name") {
      r.name = v;
    } else if (k == "metric") {
      bool known = false;
      for (const char* m : kRuleMetrics) known |= v == m;
      if (!known) {
        std::string all;
        for (const char* m : kRuleMetrics) all += (all.empty() ? "" : ", ") + std::string(m);
        return bad("one of " + all);
      }
      r.metric = v;
    } else if (k == "service") {
      r.service = v;
    } else if (k == "endpoint") {
      r.endpoint = v;
    } else if (k == "op") {
      if (v != ">" && v != "<") return bad("> or <");
      r.op = v;
    } else if (k == "threshold") {
      char* end = nullptr;
      r.threshold = std::strtod(v.c_str(), &end);
      if (v.empty() || *end != '\0') return bad("a number");
    } else if (k == "window" || k == "for") {
      uint64_t d = 0;
      if (!query::parse_duration(v, &d).ok()) return bad("a duration like 30s, 5m, 1h");
      (k == "window" ? r.window_ns : r.for_ns) = d;
    } else if (k == "severity" || k == "min_severity") {
      if (!severity_ok(v)) return bad("info, low, medium, warning, high or critical");
      (k == "severity" ? r.severity : r.min_severity) = v;
    } else if (k == "min_requests") {
      char* end = nullptr;
      long long n = std::strtoll(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < 0) return bad("a non-negative integer");
      r.min_requests = static_cast<uint64_t>(n);
    } else if (k == "webhook") {
      if (!v.empty() && !check_webhook_url(v).ok()) return bad("an http:// or https:// URL");
      r.webhook = v;
    } else if (k == "webhook_format") {
      if (v != "generic" && v != "slack") return bad("generic or slack");
      r.webhook_format = v;
    } else if (k == "enabled") {
      if (v != "true" && v != "false") return bad("true or false");
      r.enabled = v == "true";
    } else {
      return Status::invalid_argument("unknown rule field " + k);
    }
  }
  if (r.metric.empty()) return Status::invalid_argument("rule field metric is required");
  if (r.window_ns < query::kNanosPerSecond) {
    return Status::invalid_argument("rule field window must be at least 1s");
  }
  if (r.name.empty()) r.name = r.metric + " " + r.op + " " + std::to_string(r.threshold);
  *out = std::move(r);
  return Status::ok_status();
}

std::vector<Rule> default_rules() {
  std::vector<std::map<std::string, std::string>> specs = {
      {{"id", "default-error-rate"},
       {"name", "Error rate above 5%"},
       {"metric", "error_rate"},
       {"threshold", "0.05"},
       {"window", "5m"},
       {"for", "5m"},
       {"severity", "high"}},
      {{"id", "default-p95-baseline"},
       {"name", "p95 latency above twice its 1-day baseline"},
       {"metric", "p95_baseline_ratio"},
       {"threshold", "2"},
       {"window", "10m"},
       {"for", "10m"},
       {"severity", "warning"}},
      {{"id", "default-new-insight"},
       {"name", "New high-severity insight"},
       {"metric", "insights"},
       {"threshold", "0"},
       {"window", "15m"},
       {"for", "0s"},
       {"severity", "high"},
       {"min_severity", "high"}},
      {{"id", "default-memory-growth"},
       {"name", "Memory growing more than 20% per hour"},
       {"metric", "rss_growth"},
       {"threshold", "0.2"},
       {"window", "1h"},
       {"for", "15m"},
       {"severity", "warning"}},
      {{"id", "default-agent-dropping"},
       {"name", "Agent dropping telemetry"},
       {"metric", "dropped"},
       {"threshold", "0"},
       {"window", "5m"},
       {"for", "0s"},
       {"severity", "warning"}},
  };
  std::vector<Rule> out;
  for (const auto& s : specs) {
    Rule r;
    if (rule_from_fields(s, &r).ok()) out.push_back(std::move(r));
  }
  return out;
}

Status parse_rules_file(std::string_view text, std::vector<Rule>* out) {
  std::vector<std::map<std::string, std::string>> entries;
  std::string first = trim(text.substr(0, std::min<size_t>(text.size(), 64)));
  if (!first.empty() && first[0] == '{') {
    rapidjson::Document doc;
    doc.Parse(text.data(), text.size());
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("rules") ||
        !doc["rules"].IsArray()) {
      return Status::invalid_argument("rules file: expected JSON {\"rules\": [...]}");
    }
    for (const auto& r : doc["rules"].GetArray()) {
      if (!r.IsObject()) return Status::invalid_argument("rules file: each rule is an object");
      std::map<std::string, std::string> f;
      for (const auto& m : r.GetObject()) {
        const auto& v = m.value;
        f[m.name.GetString()] = v.IsString()   ? v.GetString()
                                : v.IsBool()   ? (v.GetBool() ? "true" : "false")
                                : v.IsNumber() ? std::to_string(v.GetDouble())
                                               : "";
      }
      entries.push_back(std::move(f));
    }
  } else {
    std::istringstream in{std::string(text)};
    std::string raw;
    int line_no = 0;
    bool in_rules = false;
    while (std::getline(in, raw)) {
      ++line_no;
      std::string line = strip_comment(raw);
      if (trim(line).empty()) continue;
      size_t indent = line.find_first_not_of(' ');
      std::string body = trim(line);
      auto err = [&](const std::string& what) {
        return Status::invalid_argument("rules file line " + std::to_string(line_no) + ": " + what +
                                        ": " + trim(raw).substr(0, 80));
      };
      if (indent == 0) {
        if (body != "rules:") return err("expected \"rules:\" at the top level");
        in_rules = true;
        continue;
      }
      if (!in_rules) return err("expected \"rules:\" first");
      if (body.rfind("- ", 0) == 0 || body == "-") {
        entries.emplace_back();
        body = trim(body.substr(1));
        if (body.empty()) continue;
      }
      if (entries.empty()) return err("expected a list item \"- key: value\"");
      size_t colon = body.find(':');
      if (colon == std::string::npos) return err("expected \"key: value\"");
      std::string key = trim(body.substr(0, colon));
      std::string value = unquote(trim(body.substr(colon + 1)));
      entries.back()[key] = value;
    }
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    Rule r;
    Status st = rule_from_fields(entries[i], &r);
    if (!st.ok()) {
      return Status::invalid_argument("rules file, rule " + std::to_string(i + 1) + ": " +
                                      st.message());
    }
    out->push_back(std::move(r));
  }
  return Status::ok_status();
}

}  // namespace pyrometer::server::alert
