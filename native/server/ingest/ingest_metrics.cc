// IngestMetrics: counters and the Prometheus 0.0.4 exposition of the server's
// own health (pyrometer_server_* names, base units, _total counters).
#include "server/ingest/ingest_metrics.h"

#include <cinttypes>
#include <cstdio>

namespace pyrometer::server::ingest {
namespace {

constexpr const char* kSignalNames[store::kSignalCount] = {"traces", "metrics", "logs", "profiles"};

void header(std::string* out, const char* name, const char* type, const char* help) {
  *out += "# HELP ";
  *out += name;
  *out += ' ';
  *out += help;
  *out += "\n# TYPE ";
  *out += name;
  *out += ' ';
  *out += type;
  *out += '\n';
}

void sample(std::string* out, const std::string& name, const std::string& labels, double v) {
  char buf[64];
  if (v == static_cast<double>(static_cast<int64_t>(v)) && v < 9e15 && v > -9e15) {
    std::snprintf(buf, sizeof(buf), "%" PRId64, static_cast<int64_t>(v));
  } else {
    std::snprintf(buf, sizeof(buf), "%.9g", v);
  }
  *out += name;
  if (!labels.empty()) *out += "{" + labels + "}";
  *out += ' ';
  *out += buf;
  *out += '\n';
}

void gauge(std::string* out, const char* name, const char* help, double v) {
  header(out, name, "gauge", help);
  sample(out, name, "", v);
}

void counter(std::string* out, const char* name, const char* help, double v) {
  header(out, name, "counter", help);
  sample(out, name, "", v);
}

std::string bound_label(double b) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", b);
  return buf;
}

}  // namespace

std::string_view IngestMetrics::handler_label(std::string_view path) {
  if (path == "/v1/traces") return "traces";
  if (path == "/v1/metrics") return "metrics";
  if (path == "/v1/logs") return "logs";
  if (path == "/v1/profiles") return "profiles";
  if (path == "/metrics") return "metrics_exposition";
  if (path == "/healthz") return "healthz";
  if (path.starts_with("/api/")) return "query";
  return "other";
}

void IngestMetrics::observe_request(std::string_view method, std::string_view path, int status,
                                    double seconds, size_t bytes_in) {
  std::string handler(handler_label(path));
  std::lock_guard<std::mutex> lock(mu_);
  requests_[{handler, status}] += 1;
  Latency& l = latency_[handler];
  size_t i = 0;
  while (i < kLatencyBounds.size() && seconds > kLatencyBounds[i]) ++i;
  l.buckets[i] += 1;
  l.sum += seconds;
  l.count += 1;
  l.bytes_in += bytes_in;
}

void IngestMetrics::render(const store::StoreStats* stats, uint64_t handler_exceptions,
                           uint64_t protocol_errors, std::string* out) const {
  auto per_signal = [&](const char* name, const char* help, auto get) {
    header(out, name, "counter", help);
    for (int s = 0; s < store::kSignalCount; ++s) {
      sample(out, name, std::string("signal=\"") + kSignalNames[s] + "\"",
             static_cast<double>(get(s)));
    }
  };
  per_signal("pyrometer_server_ingest_items_accepted_total",
             "Spans, data points, log records and profiles acknowledged to clients.",
             [&](int s) { return signals_[s].accepted.load(); });
  per_signal("pyrometer_server_ingest_items_rejected_total",
             "Items rejected inside an accepted request (reported as partial_success).",
             [&](int s) { return signals_[s].rejected.load(); });
  per_signal("pyrometer_server_ingest_requests_invalid_total",
             "Ingest requests refused as malformed (HTTP 400).",
             [&](int s) { return signals_[s].invalid_requests.load(); });
  per_signal("pyrometer_server_ingest_requests_refused_total",
             "Ingest requests refused because the store was saturated (HTTP 503).",
             [&](int s) { return signals_[s].refused_requests.load(); });
  {
    std::lock_guard<std::mutex> lock(mu_);
    header(out, "pyrometer_server_http_requests_total", "counter",
           "HTTP requests by handler and status code.");
    for (const auto& [key, n] : requests_) {
      sample(out, "pyrometer_server_http_requests_total",
             "handler=\"" + key.first + "\",code=\"" + std::to_string(key.second) + "\"",
             static_cast<double>(n));
    }
    header(out, "pyrometer_server_http_request_duration_seconds", "histogram",
           "Time from request header to response ready.");
    for (const auto& [handler, l] : latency_) {
      uint64_t cumulative = 0;
      std::string h = "handler=\"" + handler + "\"";
      for (size_t i = 0; i < kLatencyBounds.size(); ++i) {
        cumulative += l.buckets[i];
        sample(out, "pyrometer_server_http_request_duration_seconds_bucket",
               h + ",le=\"" + bound_label(kLatencyBounds[i]) + "\"",
               static_cast<double>(cumulative));
      }
      cumulative += l.buckets.back();
      sample(out, "pyrometer_server_http_request_duration_seconds_bucket", h + ",le=\"+Inf\"",
             static_cast<double>(cumulative));
      sample(out, "pyrometer_server_http_request_duration_seconds_sum", h, l.sum);
      sample(out, "pyrometer_server_http_request_duration_seconds_count", h,
             static_cast<double>(l.count));
    }
    header(out, "pyrometer_server_http_request_body_bytes_total", "counter",
           "Request body bytes received, before decompression.");
    for (const auto& [handler, l] : latency_) {
      sample(out, "pyrometer_server_http_request_body_bytes_total", "handler=\"" + handler + "\"",
             static_cast<double>(l.bytes_in));
    }
  }
  counter(out, "pyrometer_server_http_handler_exceptions_total",
          "Handlers that threw; answered 500.", static_cast<double>(handler_exceptions));
  counter(out, "pyrometer_server_http_protocol_errors_total",
          "Connections or requests refused before routing (malformed HTTP, over limits).",
          static_cast<double>(protocol_errors));
  if (stats == nullptr) return;
  const store::StoreStats& st = *stats;
  per_signal("pyrometer_server_store_items_accepted_total", "Items written to the WAL.",
             [&](int s) { return st.accepted[s]; });
  per_signal("pyrometer_server_store_requests_refused_total",
             "Requests the store refused (memory bound, WAL queue, I/O error).",
             [&](int s) { return st.refused[s]; });
  per_signal("pyrometer_server_store_items_dropped_total",
             "Items dropped after acceptance (trace span limit).",
             [&](int s) { return st.dropped[s]; });
  counter(out, "pyrometer_server_wal_fsyncs_total", "WAL group-commit fsyncs.",
          static_cast<double>(st.wal_fsyncs));
  counter(out, "pyrometer_server_wal_fsync_seconds_total", "Time spent in WAL fsync.",
          st.wal_fsync_seconds_sum);
  gauge(out, "pyrometer_server_wal_fsync_max_seconds", "Slowest WAL fsync so far.",
        st.wal_fsync_seconds_max);
  gauge(out, "pyrometer_server_wal_bytes", "Current WAL size.", static_cast<double>(st.wal_bytes));
  counter(out, "pyrometer_server_wal_torn_tail_truncations_total",
          "Torn WAL tail records truncated at recovery.",
          static_cast<double>(st.wal_torn_tail_truncations));
  counter(out, "pyrometer_server_wal_crc_failures_total", "WAL records that failed their CRC.",
          static_cast<double>(st.wal_crc_failures));
  counter(out, "pyrometer_server_block_crc_failures_total", "Block files that failed a CRC.",
          static_cast<double>(st.block_crc_failures));
  gauge(out, "pyrometer_server_head_bytes", "Memory held by the in-memory head.",
        static_cast<double>(st.head_bytes));
  gauge(out, "pyrometer_server_head_spans", "Spans in the in-memory head.",
        static_cast<double>(st.head_spans));
  gauge(out, "pyrometer_server_blocks", "Immutable blocks on disk.",
        static_cast<double>(st.block_count));
  gauge(out, "pyrometer_server_disk_bytes", "Bytes on disk: blocks, rollups and WAL.",
        static_cast<double>(st.disk_bytes));
  counter(out, "pyrometer_server_truncated_traces_total", "Traces cut at the span limit.",
          static_cast<double>(st.truncated_traces));
  counter(out, "pyrometer_server_compactions_total", "Block compactions.",
          static_cast<double>(st.compactions));
  counter(out, "pyrometer_server_retention_deleted_blocks_total", "Blocks deleted by retention.",
          static_cast<double>(st.blocks_deleted_by_retention));
  counter(out, "pyrometer_server_store_background_errors_total",
          "Errors in background flush, compaction and retention.",
          static_cast<double>(st.background_errors));
}

}  // namespace pyrometer::server::ingest
