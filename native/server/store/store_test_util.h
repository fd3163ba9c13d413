// Test and benchmark helpers for the store: builders of realistic OTLP
// requests (web traces, RED metrics, logs) whose strings live in the arena.
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "common/otlp_codec.h"
#include "common/otlp_model.h"

namespace pyrometer::server::store::testing {

namespace otlp = common::otlp;

inline std::string id_bytes(uint64_t hi, uint64_t lo, size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    uint64_t src = i < 8 ? hi : lo;
    s[i] = static_cast<char>((src >> (8 * (7 - i % 8))) & 0xff);
  }
  return s;
}
inline std::string trace_id(uint64_t n) {
  return id_bytes(0x5eed000000000000ull | n, n * 0x9e3779b97f4a7c15ull, 16);
}

inline otlp::KeyValue kv(otlp::Arena* a, std::string_view k, std::string_view v) {
  return {a->store(std::string(k)), otlp::AnyValue::of_string(a->store(std::string(v)))};
}
inline otlp::KeyValue kv_int(otlp::Arena* a, std::string_view k, int64_t v) {
  return {a->store(std::string(k)), otlp::AnyValue::of_int(v)};
}

inline otlp::Resource resource(otlp::Arena* a, std::string_view service,
                               std::string_view sdk = "opentelemetry") {
  otlp::Resource r;
  r.attributes.push_back(kv(a, "service.name", service));
  r.attributes.push_back(kv(a, "telemetry.sdk.name", sdk));
  r.attributes.push_back(kv(a, "host.name", "web-1"));
  return r;
}

// `traces` web traces of `spans_per_trace` spans (a server span, then DB and
// cache client spans), starting at `t0`, trace numbers from `first_trace`.
inline void web_traces(otlp::TracesRequest* req, uint64_t first_trace, int traces,
                       int spans_per_trace, uint64_t t0, std::string_view service = "shop",
                       uint32_t seed = 1) {
  std::mt19937_64 rng(seed * 7919 + first_trace);
  otlp::Arena* a = &req->arena;
  req->resource_spans.emplace_back();
  auto& rs = req->resource_spans.back();
  rs.resource = resource(a, service);
  rs.scope_spans.emplace_back();
  auto& ss = rs.scope_spans.back();
  ss.scope.name = "opentelemetry.instrumentation.flask";
  ss.scope.version = "0.45b0";
  static const char* kRoutes[] = {"/users/{id}", "/orders", "/cart/{id}/items", "/health"};
  for (int t = 0; t < traces; ++t) {
    uint64_t tn = first_trace + static_cast<uint64_t>(t);
    std::string_view tid = a->store(trace_id(tn));
    uint64_t start = t0 + static_cast<uint64_t>(t) * 1'000'000 + rng() % 1000;
    uint64_t dur = 2'000'000 + rng() % 30'000'000;
    std::string_view root_id = a->store(id_bytes(rng(), 0, 8));
    const char* route = kRoutes[rng() % 4];
    bool error = rng() % 50 == 0;
    for (int s = 0; s < spans_per_trace; ++s) {
      otlp::Span sp;
      sp.trace_id = tid;
      sp.flags = 1;
      if (s == 0) {
        sp.span_id = root_id;
        sp.name = a->store(std::string("GET ") + route);
        sp.kind = otlp::SpanKind::kServer;
        sp.start_time_unix_nano = start;
        sp.end_time_unix_nano = start + dur;
        sp.attributes.push_back(kv(a, "http.request.method", "GET"));
        sp.attributes.push_back(kv(a, "http.route", route));
        sp.attributes.push_back(kv_int(a, "http.response.status_code", error ? 500 : 200));
        sp.attributes.push_back(kv(a, "url.scheme", "http"));
        sp.attributes.push_back(kv(a, "server.address", "shop.internal"));
        if (error) sp.status_code = otlp::StatusCode::kError;
      } else {
        sp.span_id = a->store(id_bytes(rng(), 0, 8));
        sp.parent_span_id = root_id;
        bool db = s % 3 != 0;
        sp.name = db ? "SELECT shop.users" : "GET cache";
        sp.kind = otlp::SpanKind::kClient;
        uint64_t off = static_cast<uint64_t>(s) * (dur / (spans_per_trace + 1));
        sp.start_time_unix_nano = start + off;
        sp.end_time_unix_nano = start + off + 50'000 + rng() % 900'000;
        if (db) {
          sp.attributes.push_back(kv(a, "db.system", "postgresql"));
          sp.attributes.push_back(
              kv(a, "db.query.text", "SELECT id, name FROM users WHERE id = ?"));
        } else {
          sp.attributes.push_back(kv(a, "db.system", "redis"));
          sp.attributes.push_back(kv(a, "db.operation.name", "GET"));
        }
      }
      ss.spans.push_back(std::move(sp));
    }
  }
}

inline std::string encode(const otlp::TracesRequest& r) {
  std::string out;
  otlp::encode_traces(r, &out);
  return out;
}
inline std::string encode(const otlp::MetricsRequest& r) {
  std::string out;
  otlp::encode_metrics(r, &out);
  return out;
}
inline std::string encode(const otlp::LogsRequest& r) {
  std::string out;
  otlp::encode_logs(r, &out);
  return out;
}

}  // namespace pyrometer::server::store::testing
