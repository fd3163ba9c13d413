// FakeStore: an in-memory Store for the server's C++ tests (HTTP, ingest,
// query), recording what was appended and able to refuse on demand.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "server/store/store.h"

namespace pyrometer::server::testing {

// Thread-safe. Keeps every appended request's protobuf bytes and, for traces,
// a SpanRow per span (service from resource attribute service.name) so
// find_trace works. `next_status` is returned (once) instead of storing.
class FakeStore : public store::Store {
 public:
  common::Status append_traces(std::string_view encoded, const common::otlp::TracesRequest& decoded,
                               store::AppendResult* result) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!take_status()) return refused_;
    traces_encoded.emplace_back(encoded);
    for (const auto& rs : decoded.resource_spans) {
      std::string service;
      for (const auto& kv : rs.resource.attributes) {
        if (kv.key == "service.name") service = std::string(kv.value.string_value);
      }
      for (const auto& ss : rs.scope_spans) {
        for (const auto& s : ss.spans) {
          store::SpanRow row;
          row.trace_id = std::string(s.trace_id);
          row.span_id = std::string(s.span_id);
          row.parent_span_id = std::string(s.parent_span_id);
          row.service = service;
          row.name = std::string(s.name);
          row.kind = static_cast<uint8_t>(s.kind);
          row.start_time_unix_nano = s.start_time_unix_nano;
          row.end_time_unix_nano = s.end_time_unix_nano;
          row.status_code = static_cast<uint8_t>(s.status_code);
          row.status_message = std::string(s.status_message);
          for (const auto& kv : s.attributes) {
            store::Attribute a;
            a.key = std::string(kv.key);
            if (kv.value.type == common::otlp::AnyValue::Type::kInt) {
              a.value.type = store::AttrValue::Type::kInt;
              a.value.i = kv.value.int_value;
            } else {
              a.value.type = store::AttrValue::Type::kString;
              a.value.str = std::string(kv.value.string_value);
            }
            row.attributes.push_back(std::move(a));
          }
          spans.push_back(std::move(row));
          ++result->accepted;
        }
      }
    }
    if (reject_per_request > 0) {
      result->accepted -= reject_per_request;
      result->rejected = reject_per_request;
      result->reject_reason = "span limit reached";
    }
    return {};
  }
  common::Status append_metrics(std::string_view encoded,
                                const common::otlp::MetricsRequest& decoded,
                                store::AppendResult* result) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!take_status()) return refused_;
    metrics_encoded.emplace_back(encoded);
    for (const auto& rm : decoded.resource_metrics) {
      for (const auto& sm : rm.scope_metrics) {
        for (const auto& m : sm.metrics) {
          result->accepted += static_cast<int64_t>(
              m.number_points.size() + m.histogram_points.size() + m.exp_histogram_points.size());
        }
      }
    }
    return {};
  }
  common::Status append_logs(std::string_view encoded, const common::otlp::LogsRequest& decoded,
                             store::AppendResult* result) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!take_status()) return refused_;
    logs_encoded.emplace_back(encoded);
    for (const auto& rl : decoded.resource_logs) {
      for (const auto& sl : rl.scope_logs) {
        for (const auto& r : sl.log_records) {
          store::LogRow row;
          row.time_unix_nano = r.time_unix_nano;
          row.severity_number = r.severity_number;
          row.trace_id = std::string(r.trace_id);
          row.body.type = store::AttrValue::Type::kString;
          row.body.str = std::string(r.body.string_value);
          logs.push_back(std::move(row));
          ++result->accepted;
        }
      }
    }
    return {};
  }
  common::Status append_profile(std::string_view pprof, const store::ProfileLabels& labels,
                                store::AppendResult* result) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!take_status()) return refused_;
    profiles.emplace_back(pprof);
    profile_labels.push_back(labels);
    result->accepted = 1;
    return {};
  }
  common::Status find_trace(std::string_view trace_id, std::vector<store::SpanRow>* out) override {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& s : spans) {
      if (s.trace_id == trace_id) out->push_back(s);
    }
    return {};
  }
  common::Status scan_spans(const store::SpanFilter&,
                            const std::function<bool(const store::SpanRow&)>&) override {
    return {};
  }
  common::Status scan_metric_points(
      const store::MetricFilter&,
      const std::function<bool(const store::MetricPointRow&)>&) override {
    return {};
  }
  common::Status scan_logs(const store::LogFilter& filter,
                           const std::function<bool(const store::LogRow&)>& visit) override {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& r : logs) {
      if (!filter.trace_id.empty() && r.trace_id != filter.trace_id) continue;
      if (!visit(r)) break;
    }
    return {};
  }
  common::Status read_profiles(const store::ProfileFilter&,
                               std::vector<store::ProfileRow>*) override {
    return {};
  }
  common::Status scan_rollups(const store::RollupFilter&,
                              const std::function<bool(const store::RollupRow&)>&) override {
    return {};
  }
  store::StoreStats stats() override { return {}; }
  common::Status close() override { return {}; }

  // The next append returns `st` instead of storing (e.g. unavailable).
  void refuse_next(common::Status st) {
    std::lock_guard<std::mutex> lock(mu_);
    refused_ = std::move(st);
    refuse_pending_ = true;
  }

  std::vector<std::string> traces_encoded, metrics_encoded, logs_encoded, profiles;
  std::vector<store::ProfileLabels> profile_labels;
  std::vector<store::SpanRow> spans;
  std::vector<store::LogRow> logs;
  int64_t reject_per_request = 0;

 private:
  // False (and clears the pending refusal) when this call must be refused.
  bool take_status() {
    if (!refuse_pending_) return true;
    refuse_pending_ = false;
    return false;
  }
  std::mutex mu_;
  common::Status refused_;
  bool refuse_pending_ = false;
};

}  // namespace pyrometer::server::testing
