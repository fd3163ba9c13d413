// Ingest endpoint tests through the real route table and a FakeStore:
// content negotiation, OTLP responses, 400/413/415/503 mapping, partial
// success, profiles, /metrics and the read endpoints.
#include <gtest/gtest.h>

#include <protozero/pbf_reader.hpp>
#include <protozero/pbf_writer.hpp>

#include "common/gzip.h"
#include "common/otlp_codec.h"
#include "common/pprof_codec.h"
#include "server/http/router.h"
#include "server/server_routes.h"
#include "server/testing/fake_store.h"

namespace pyrometer::server::ingest {
namespace {

namespace otlp = common::otlp;

const std::string kTraceId("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10", 16);

std::string one_span_protobuf(std::string_view name) {
  otlp::TracesRequest req;
  auto& rs = req.resource_spans.emplace_back();
  rs.resource.attributes.push_back({"service.name", otlp::AnyValue::of_string("checkout")});
  auto& span = rs.scope_spans.emplace_back().spans.emplace_back();
  span.trace_id = kTraceId;
  span.span_id = std::string_view("\x01\x02\x03\x04\x05\x06\x07\x08", 8);
  span.name = name;
  span.kind = otlp::SpanKind::kServer;
  span.start_time_unix_nano = 1000;
  span.end_time_unix_nano = 3500;
  std::string out;
  otlp::encode_traces(req, &out);
  return out;
}

class IngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    add_server_routes(&router_, &store_, &metrics_, 1 << 20, ExtraCounters{});
  }
  http::Response call(std::string method, std::string target, std::string content_type,
                      std::string body) {
    http::Request rq;
    rq.method = std::move(method);
    rq.target = target;
    size_t q = target.find('?');
    rq.path = target.substr(0, q);
    if (q != std::string::npos) rq.query = target.substr(q + 1);
    if (!content_type.empty()) rq.headers.emplace_back("content-type", content_type);
    rq.body = std::move(body);
    http::Response res;
    router_.dispatch(rq, &res);
    return res;
  }
  // Decodes a google.rpc.Status protobuf body.
  static std::pair<int, std::string> rpc_status(const std::string& body) {
    protozero::pbf_reader r(body);
    int code = -1;
    std::string message;
    while (r.next()) {
      if (r.tag() == 1) {
        code = r.get_int32();
      } else if (r.tag() == 2) {
        message = r.get_string();
      } else {
        r.skip();
      }
    }
    return {code, message};
  }

  testing::FakeStore store_;
  IngestMetrics metrics_;
  http::Router router_;
};

TEST_F(IngestTest, ProtobufTracesAreStoredVerbatimAndAnsweredInProtobuf) {
  std::string body = one_span_protobuf("GET /a");
  http::Response res = call("POST", "/v1/traces", "application/x-protobuf", body);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.content_type, "application/x-protobuf");
  otlp::PartialSuccess partial;
  ASSERT_TRUE(otlp::decode_export_response(res.body, &partial).ok());
  EXPECT_EQ(partial.rejected, 0);
  ASSERT_EQ(store_.traces_encoded.size(), 1u);
  EXPECT_EQ(store_.traces_encoded[0], body);
}

TEST_F(IngestTest, JsonTracesAreReencodedToProtobufAndAnsweredInJson) {
  const char json[] = R"({"resourceSpans":[{"resource":{"attributes":[{"key":"service.name",
      "value":{"stringValue":"checkout"}}]},"scopeSpans":[{"spans":[{
      "traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708",
      "name":"GET /a","kind":2,"startTimeUnixNano":"1000","endTimeUnixNano":"3500"}]}]}]})";
  http::Response res = call("POST", "/v1/traces", "application/json; charset=utf-8", json);
  EXPECT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.content_type, "application/json");
  EXPECT_EQ(res.body, "{}");
  ASSERT_EQ(store_.traces_encoded.size(), 1u);
  otlp::TracesRequest stored;
  ASSERT_TRUE(otlp::decode_traces(store_.traces_encoded[0], &stored).ok());
  EXPECT_EQ(stored.resource_spans[0].scope_spans[0].spans[0].name, "GET /a");
  EXPECT_EQ(stored.resource_spans[0].scope_spans[0].spans[0].trace_id, kTraceId);
}

TEST_F(IngestTest, PartialSuccessIsReportedIn200) {
  store_.reject_per_request = 1;
  http::Response pb = call("POST", "/v1/traces", "application/x-protobuf", one_span_protobuf("x"));
  EXPECT_EQ(pb.status, 200);
  otlp::PartialSuccess partial;
  ASSERT_TRUE(otlp::decode_export_response(pb.body, &partial).ok());
  EXPECT_EQ(partial.rejected, 1);
  EXPECT_EQ(partial.error_message, "span limit reached");

  http::Response js = call("POST", "/v1/traces", "application/json",
                           R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"x"}]}]}]})");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.body,
            R"({"partialSuccess":{"rejectedSpans":"1","errorMessage":"span limit reached"}})");
}

TEST_F(IngestTest, MalformedProtobufIs400WithRpcStatus) {
  http::Response res = call("POST", "/v1/traces", "application/x-protobuf", "\x0a\xff\xff\xff");
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.content_type, "application/x-protobuf");
  auto [code, message] = rpc_status(res.body);
  EXPECT_EQ(code, 3);  // INVALID_ARGUMENT
  EXPECT_NE(message.find("invalid OTLP protobuf ExportTraceServiceRequest"), std::string::npos)
      << message;
  EXPECT_TRUE(store_.traces_encoded.empty());
}

TEST_F(IngestTest, MalformedJsonIs400WithJsonStatus) {
  http::Response res = call("POST", "/v1/logs", "application/json", "{\"resourceLogs\": [}");
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.content_type, "application/json");
  EXPECT_NE(res.body.find("\"code\":3"), std::string::npos);
  EXPECT_NE(res.body.find("invalid OTLP JSON ExportLogsServiceRequest"), std::string::npos);
}

TEST_F(IngestTest, UnknownContentTypeIs415) {
  http::Response res = call("POST", "/v1/metrics", "text/plain", "hello");
  EXPECT_EQ(res.status, 415);
  EXPECT_NE(res.body.find("unsupported content type"), std::string::npos);
  http::Response none = call("POST", "/v1/metrics", "", "hello");
  EXPECT_EQ(none.status, 415);
}

TEST_F(IngestTest, StoreUnavailableIs503WithRetryAfter) {
  store_.refuse_next(common::Status::unavailable("memory bound reached"));
  http::Response res = call("POST", "/v1/traces", "application/x-protobuf", one_span_protobuf("x"));
  EXPECT_EQ(res.status, 503);
  bool retry_after = false;
  for (const auto& [k, v] : res.headers) retry_after |= k == "Retry-After" && !v.empty();
  EXPECT_TRUE(retry_after);
  EXPECT_EQ(rpc_status(res.body).first, 14);  // UNAVAILABLE
  // The next request goes through.
  EXPECT_EQ(call("POST", "/v1/traces", "application/x-protobuf", one_span_protobuf("x")).status,
            200);
}

TEST_F(IngestTest, WrongMethodAndUnknownPathUseOtlpErrors) {
  http::Response get = call("GET", "/v1/traces", "application/x-protobuf", "");
  EXPECT_EQ(get.status, 405);
  EXPECT_EQ(rpc_status(get.body).first, 12);
  http::Response missing = call("POST", "/v1/nothing", "application/json", "{}");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("\"code\":5"), std::string::npos);
}

TEST_F(IngestTest, MetricsAndLogsAreAccepted) {
  otlp::MetricsRequest m;
  auto& metric =
      m.resource_metrics.emplace_back().scope_metrics.emplace_back().metrics.emplace_back();
  metric.name = "requests";
  metric.type = otlp::Metric::Type::kSum;
  metric.number_points.emplace_back().as_int = 3;
  std::string mb;
  otlp::encode_metrics(m, &mb);
  EXPECT_EQ(call("POST", "/v1/metrics", "application/x-protobuf", mb).status, 200);

  otlp::LogsRequest l;
  auto& rec = l.resource_logs.emplace_back().scope_logs.emplace_back().log_records.emplace_back();
  rec.body = otlp::AnyValue::of_string("hello");
  rec.trace_id = kTraceId;
  std::string lb;
  otlp::encode_logs(l, &lb);
  EXPECT_EQ(call("POST", "/v1/logs", "application/x-protobuf", lb).status, 200);
  EXPECT_EQ(store_.metrics_encoded.size(), 1u);
  EXPECT_EQ(store_.logs_encoded.size(), 1u);

  http::Response logs =
      call("GET", "/api/v1/logs?trace_id=0102030405060708090a0b0c0d0e0f10", "", "");
  EXPECT_EQ(logs.status, 200);
  EXPECT_NE(logs.body.find("\"body\":\"hello\""), std::string::npos) << logs.body;
}

TEST_F(IngestTest, TraceByIdReadsBackAsJson) {
  call("POST", "/v1/traces", "application/x-protobuf", one_span_protobuf("GET /users"));
  http::Response res = call("GET", "/api/v1/traces/0102030405060708090A0B0C0D0E0F10", "", "");
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.content_type, "application/json");
  EXPECT_NE(res.body.find("\"trace_id\":\"0102030405060708090a0b0c0d0e0f10\""), std::string::npos);
  EXPECT_NE(res.body.find("\"name\":\"GET /users\""), std::string::npos);
  EXPECT_NE(res.body.find("\"service\":\"checkout\""), std::string::npos);
  EXPECT_NE(res.body.find("\"kind\":\"server\""), std::string::npos);
  EXPECT_NE(res.body.find("\"duration_ns\":2500"), std::string::npos);
  EXPECT_EQ(call("GET", "/api/v1/traces/ffffffffffffffffffffffffffffffff", "", "").status, 404);
  EXPECT_EQ(call("GET", "/api/v1/traces/xyz", "", "").status, 400);
}

std::string tiny_pprof() {
  common::pprof::Profile p;
  p.string_table = {"", "cpu", "nanoseconds", "handler", "app.py"};
  p.sample_type.push_back({1, 2});
  p.function.push_back({.id = 1, .name = 3, .system_name = 3, .filename = 4, .start_line = 1});
  common::pprof::Location loc;
  loc.id = 1;
  loc.line.push_back({.function_id = 1, .line = 12, .column = 0});
  p.location.push_back(loc);
  common::pprof::Sample sample;
  sample.location_id = {1};
  sample.value = {7};
  p.sample.push_back(sample);
  std::string out;
  common::pprof::encode_profile(p, &out);
  return out;
}

TEST_F(IngestTest, ProfileWithLabelsIsStored) {
  http::Response res =
      call("POST", "/v1/profiles?service=api&instance=h1&route=%2Fusers&type=wall&time=123",
           "application/octet-stream", tiny_pprof());
  EXPECT_EQ(res.status, 200) << res.body;
  ASSERT_EQ(store_.profile_labels.size(), 1u);
  EXPECT_EQ(store_.profile_labels[0].service, "api");
  EXPECT_EQ(store_.profile_labels[0].instance, "h1");
  EXPECT_EQ(store_.profile_labels[0].route, "/users");
  EXPECT_EQ(store_.profile_labels[0].profile_type, "wall");
  EXPECT_EQ(store_.profile_labels[0].time_unix_nano, 123u);
}

TEST_F(IngestTest, GzippedProfileIsInflated) {
  std::string gz;
  common::gzip(tiny_pprof(), &gz);
  EXPECT_EQ(call("POST", "/v1/profiles?service=api", "", gz).status, 200);
  ASSERT_EQ(store_.profiles.size(), 1u);
  EXPECT_EQ(store_.profiles[0], tiny_pprof());
  EXPECT_EQ(store_.profile_labels[0].profile_type, "cpu");
  EXPECT_GT(store_.profile_labels[0].time_unix_nano, 0u);
}

TEST_F(IngestTest, BadProfilesAre400) {
  EXPECT_EQ(call("POST", "/v1/profiles?service=api", "", "garbage bytes here").status, 400);
  EXPECT_EQ(call("POST", "/v1/profiles", "", tiny_pprof()).status, 400);  // no service
  EXPECT_EQ(call("POST", "/v1/profiles?service=a&type=gpu", "", tiny_pprof()).status, 400);
  EXPECT_EQ(call("POST", "/v1/profiles?service=a&time=soon", "", tiny_pprof()).status, 400);
  EXPECT_EQ(call("POST", "/v1/profiles?service=a", "", "\x1f\x8b not gzip").status, 400);
  EXPECT_TRUE(store_.profiles.empty());
}

TEST_F(IngestTest, MetricsEndpointIsPrometheusText) {
  call("POST", "/v1/traces", "application/x-protobuf", one_span_protobuf("x"));
  call("POST", "/v1/traces", "application/x-protobuf", "\xff");
  metrics_.observe_request("POST", "/v1/traces", 200, 0.002, 100);
  http::Response res = call("GET", "/metrics", "", "");
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(res.body.find("pyrometer_server_ingest_items_accepted_total{signal=\"traces\"} 1"),
            std::string::npos)
      << res.body;
  EXPECT_NE(res.body.find("pyrometer_server_ingest_requests_invalid_total{signal=\"traces\"} 1"),
            std::string::npos);
  EXPECT_NE(
      res.body.find("pyrometer_server_http_requests_total{handler=\"traces\",code=\"200\"} 1"),
      std::string::npos);
  EXPECT_NE(res.body.find("pyrometer_server_http_request_duration_seconds_bucket{handler="
                          "\"traces\",le=\"+Inf\"} 1"),
            std::string::npos);
  EXPECT_NE(res.body.find("# TYPE pyrometer_server_wal_fsyncs_total counter"), std::string::npos);
  EXPECT_EQ(call("GET", "/healthz", "", "").body, "ok\n");
}

}  // namespace
}  // namespace pyrometer::server::ingest
