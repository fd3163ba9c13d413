// OTLP trace codec throughput (MB/s of protobuf) on a realistic agent batch:
// 512 spans, web server spans plus database client spans, ~10 attributes each.
// Target (issue 2): decode >= 500 MB/s on one core.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>

#include "common/otlp_codec.h"

namespace {

namespace otlp = pyrometer::common::otlp;
using otlp::AnyValue;

constexpr int kSpans = 512;

std::string random_bytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// Strings are kept in the request's arena; the model only holds views.
void build_batch(otlp::TracesRequest* req) {
  std::mt19937_64 rng(42);
  otlp::ResourceSpans& rs = req->resource_spans.emplace_back();
  auto& res = rs.resource.attributes;
  res.push_back({"service.name", AnyValue::of_string("checkout")});
  res.push_back({"service.version", AnyValue::of_string("2.14.1")});
  res.push_back({"deployment.environment", AnyValue::of_string("production")});
  res.push_back({"host.name", AnyValue::of_string("web-7f9c6d4b8-xk2lp")});
  res.push_back({"process.pid", AnyValue::of_int(31337)});
  res.push_back({"telemetry.sdk.name", AnyValue::of_string("pyrometer")});
  otlp::ScopeSpans& ss = rs.scope_spans.emplace_back();
  ss.scope.name = "pyrometer";
  ss.scope.version = "0.1.0";
  static const char* kRoutes[] = {"/api/orders/{id}", "/api/users/{id}/cart", "/health",
                                  "/api/products", "/checkout/confirm"};
  static const char* kQueries[] = {
      "SELECT id, user_id, total, status FROM orders WHERE id = ?",
      "SELECT p.id, p.name, p.price FROM products p JOIN cart_items c ON c.product_id = p.id "
      "WHERE c.user_id = ?",
      "UPDATE orders SET status = ? WHERE id = ?",
      "INSERT INTO events (kind, payload) VALUES (?, ?)"};
  std::string trace_id;
  std::string root_id;
  for (int i = 0; i < kSpans; ++i) {
    otlp::Span& s = ss.spans.emplace_back();
    const bool server = i % 4 == 0;  // one request span per three DB calls
    if (server) {
      trace_id = random_bytes(rng, 16);
      root_id = random_bytes(rng, 8);
    }
    s.trace_id = req->arena.store(trace_id);
    s.span_id = server ? req->arena.store(root_id) : req->arena.store(random_bytes(rng, 8));
    if (!server) s.parent_span_id = req->arena.store(root_id);
    s.flags = 0x301;
    const uint64_t start = 1'700'000'000'000'000'000ULL + static_cast<uint64_t>(i) * 1'000'000;
    s.start_time_unix_nano = start;
    s.end_time_unix_nano = start + 100'000 + rng() % 50'000'000;
    auto& a = s.attributes;
    if (server) {
      const char* route = kRoutes[rng() % 5];
      const uint64_t id = rng() % 100000;
      s.name = req->arena.store(std::string("GET ") + route);
      s.kind = otlp::SpanKind::kServer;
      a.push_back({"http.request.method", AnyValue::of_string("GET")});
      a.push_back({"http.route", AnyValue::of_string(route)});
      a.push_back({"url.full", AnyValue::of_string(req->arena.store(
                                   "https://shop.example.com/api/orders/" + std::to_string(id) +
                                   "?expand=items&currency=EUR"))});
      a.push_back({"url.scheme", AnyValue::of_string("https")});
      a.push_back({"http.response.status_code", AnyValue::of_int(i % 40 == 0 ? 500 : 200)});
      a.push_back({"server.address", AnyValue::of_string("shop.example.com")});
      a.push_back({"server.port", AnyValue::of_int(443)});
      a.push_back({"client.address", AnyValue::of_string("10.12.4.181")});
      a.push_back({"user_agent.original",
                   AnyValue::of_string("Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0")});
      a.push_back({"network.protocol.version", AnyValue::of_string("1.1")});
      if (i % 40 == 0) {
        s.status_code = otlp::StatusCode::kError;
        s.status_message = "Internal Server Error";
      }
    } else {
      const char* query = kQueries[rng() % 4];
      s.name = "SELECT shop";
      s.kind = otlp::SpanKind::kClient;
      a.push_back({"db.system", AnyValue::of_string("postgresql")});
      a.push_back({"db.namespace", AnyValue::of_string("shop")});
      a.push_back({"db.operation.name", AnyValue::of_string("SELECT")});
      a.push_back({"db.query.text", AnyValue::of_string(query)});
      a.push_back({"db.collection.name", AnyValue::of_string("orders")});
      a.push_back({"server.address", AnyValue::of_string("db-primary.internal")});
      a.push_back({"server.port", AnyValue::of_int(5432)});
      a.push_back(
          {"db.response.returned_rows", AnyValue::of_int(static_cast<int64_t>(rng() % 50))});
      a.push_back({"code.function.name", AnyValue::of_string("shop.orders.repository.get")});
      a.push_back({"code.line.number", AnyValue::of_int(118)});
    }
  }
}

const std::string& encoded_batch() {
  static const std::string wire = [] {
    otlp::TracesRequest req;
    build_batch(&req);
    std::string out;
    otlp::encode_traces(req, &out);
    return out;
  }();
  return wire;
}

void BM_DecodeTraces(benchmark::State& state) {
  const std::string& wire = encoded_batch();
  for (auto _ : state) {
    otlp::TracesRequest req;
    const auto st = otlp::decode_traces(wire, &req);
    if (!st.ok()) state.SkipWithError(st.message().c_str());
    benchmark::DoNotOptimize(req.resource_spans.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * wire.size()));
  state.counters["spans/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * kSpans,
                                                 benchmark::Counter::kIsRate);
  state.counters["bytes/span"] = static_cast<double>(wire.size()) / kSpans;
}
BENCHMARK(BM_DecodeTraces);

void BM_EncodeTraces(benchmark::State& state) {
  otlp::TracesRequest req;
  build_batch(&req);
  std::string out;
  for (auto _ : state) {
    out.clear();  // keeps capacity, as the agent's exporter reuses its buffer
    otlp::encode_traces(req, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * out.size()));
  state.counters["spans/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * kSpans,
                                                 benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EncodeTraces);

}  // namespace

BENCHMARK_MAIN();
