// Tests for rule validation, the default rules and the rules-file parser
// (YAML subset and JSON), including error messages that name the problem.
#include "server/alert/rule.h"

#include <gtest/gtest.h>

namespace pyrometer::server::alert {
namespace {

TEST(Rule, ParsesTheYamlSubset) {
  std::vector<Rule> rules;
  common::Status st = parse_rules_file(R"(# team rules
rules:
  - name: "checkout: errors"   # quoted, with a colon
    metric: error_rate
    service: shop
    threshold: 0.05
    window: 5m
    for: 2m
    severity: critical
    webhook: http://127.0.0.1:9/hook
    webhook_format: slack

  -
    metric: p95_ms
    op: '>'
    threshold: 800
    endpoint: /pay
)",
                                       &rules);
  ASSERT_TRUE(st.ok()) << st.to_string();
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0].name, "checkout: errors");
  EXPECT_EQ(rules[0].metric, "error_rate");
  EXPECT_EQ(rules[0].service, "shop");
  EXPECT_DOUBLE_EQ(rules[0].threshold, 0.05);
  EXPECT_EQ(rules[0].window_ns, 300ull * 1000000000);
  EXPECT_EQ(rules[0].for_ns, 120ull * 1000000000);
  EXPECT_EQ(rules[0].webhook_format, "slack");
  EXPECT_EQ(rules[1].endpoint, "/pay");
  EXPECT_EQ(rules[1].name, "p95_ms > 800.000000");
}

TEST(Rule, ParsesJson) {
  std::vector<Rule> rules;
  ASSERT_TRUE(parse_rules_file(R"({"rules": [{"metric": "rps", "op": "<", "threshold": 1,
                                   "enabled": false}]})",
                               &rules)
                  .ok());
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0].op, "<");
  EXPECT_FALSE(rules[0].enabled);
}

TEST(Rule, ErrorsNameTheLineOrField) {
  std::vector<Rule> rules;
  common::Status st = parse_rules_file("rules:\n  - metric: rps\n    nonsense line\n", &rules);
  EXPECT_NE(st.message().find("line 3"), std::string::npos) << st.message();
  st = parse_rules_file("alerts:\n  - metric: rps\n", &rules);
  EXPECT_NE(st.message().find("\"rules:\""), std::string::npos) << st.message();
  st = parse_rules_file("rules:\n  - metric: rps\n    window: soon\n", &rules);
  EXPECT_NE(st.message().find("rule 1: rule field window"), std::string::npos) << st.message();
  Rule r;
  EXPECT_FALSE(rule_from_fields({{"metric", "bogus"}}, &r).ok());
  EXPECT_FALSE(rule_from_fields({{"threshold", "1"}}, &r).ok());
  EXPECT_FALSE(rule_from_fields({{"metric", "rps"}, {"colour", "red"}}, &r).ok());
  EXPECT_FALSE(rule_from_fields({{"metric", "rps"}, {"webhook", "ftp://x"}}, &r).ok());
  EXPECT_TRUE(rule_from_fields({{"metric", "rps"}, {"webhook", "https://x/h"}}, &r).ok());
}

TEST(Rule, DefaultsAreTheDocumentedOnes) {
  std::vector<Rule> d = default_rules();
  ASSERT_EQ(d.size(), 5u);
  EXPECT_EQ(d[0].metric, "error_rate");
  EXPECT_DOUBLE_EQ(d[0].threshold, 0.05);
  EXPECT_EQ(d[0].for_ns, 300ull * 1000000000);
  EXPECT_EQ(d[1].metric, "p95_baseline_ratio");
  EXPECT_DOUBLE_EQ(d[1].threshold, 2);
  EXPECT_EQ(d[2].metric, "insights");
  EXPECT_EQ(d[2].min_severity, "high");
  EXPECT_EQ(d[3].metric, "rss_growth");
  EXPECT_DOUBLE_EQ(d[3].threshold, 0.2);
  EXPECT_EQ(d[4].metric, "dropped");
}

}  // namespace
}  // namespace pyrometer::server::alert
