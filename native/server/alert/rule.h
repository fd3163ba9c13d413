// Alert rules: a condition on a golden signal or on insights, scoped to a
// service (or every service) and optionally an endpoint, with a threshold,
// evaluation window, `for` duration, severity and webhook.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace pyrometer::server::alert {

// What a rule measures over its window (per service when `service` is empty):
//   error_rate  failed / all requests (0..1)       p95_ms, p99_ms  latency
//   rps         requests per second                apdex           0..1
//   p95_baseline_ratio  p95 over the window / p95 over the day before it
//   rss_growth  relative RSS growth per hour (0.2 = +20%/h), worst instance
//   dropped     items agents dropped in the window
//   insights    insight records of at least `min_severity` in the window
inline constexpr const char* kRuleMetrics[] = {"error_rate", "p95_ms",  "p99_ms",
                                               "rps",        "apdex",   "p95_baseline_ratio",
                                               "rss_growth", "dropped", "insights"};

struct Rule {
  std::string id;  // assigned by the manager when empty
  std::string name;
  std::string metric;
  std::string service;   // "" = evaluate each service separately
  std::string endpoint;  // "" = the whole service
  std::string op = ">";  // ">" or "<"
  double threshold = 0;
  uint64_t window_ns = 5ull * 60 * 1000000000;
  uint64_t for_ns = 0;
  std::string severity = "warning";        // info | warning | high | critical
  std::string min_severity = "high";       // insights rules: count only this severe or worse
  uint64_t min_requests = 10;              // rate/latency rules: ignore windows with fewer
  std::string webhook;                     // http://host:port/path, "" = none
  std::string webhook_format = "generic";  // generic | slack
  bool enabled = true;
};

// Builds a rule from string fields (JSON body or YAML entry): name, metric,
// service, endpoint, op, threshold, window, for (durations like 5m), severity,
// min_severity, min_requests, webhook, webhook_format, enabled. InvalidArgument
// naming the field on a bad or unknown value.
common::Status rule_from_fields(const std::map<std::string, std::string>& fields, Rule* out);

// The rules that ship enabled: error rate > 5% for 5m, p95 > 2x its 1-day
// baseline for 10m, a new high-severity insight, RSS growth > 20%/h, agents
// dropping data.
std::vector<Rule> default_rules();

// Parses a rules file: JSON ({"rules": [{...}]}) or the YAML subset
//   rules:
//     - name: checkout errors      # comments allowed
//       metric: error_rate
//       threshold: 0.05
// (a top-level "rules:" list of flat mappings with scalar values, optionally
// quoted). InvalidArgument with the line number on anything else.
common::Status parse_rules_file(std::string_view text, std::vector<Rule>* out);

}  // namespace pyrometer::server::alert
