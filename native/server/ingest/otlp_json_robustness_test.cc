// Robustness of the OTLP JSON decoder against hostile input: seeded random
// mutations of valid requests must never crash, and whatever decodes must
// re-encode to protobuf that our protobuf decoder accepts (JSON and protobuf
// ingest agree on what is valid).
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "common/otlp_codec.h"
#include "server/ingest/otlp_json.h"

namespace pyrometer::server::ingest {
namespace {

namespace otlp = common::otlp;

const char* const kSeeds[] = {
    R"({"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"a"}}]},
      "scopeSpans":[{"scope":{"name":"s"},"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10",
      "spanId":"0102030405060708","parentSpanId":"0102030405060709","name":"GET /x","kind":2,
      "startTimeUnixNano":"1","endTimeUnixNano":2,"status":{"code":2,"message":"m"},
      "events":[{"name":"e","timeUnixNano":"3","attributes":[{"key":"k","value":{"arrayValue":
      {"values":[{"intValue":"1"},{"kvlistValue":{"values":[{"key":"z","value":{"boolValue":true}}]}}]}}}]}],
      "links":[{"traceId":"0102030405060708090a0b0c0d0e0f11","spanId":"0102030405060701"}]}]}]}]})",
    R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"5","severityNumber":9,
      "body":{"stringValue":"hi\n\u00e9"},"traceId":"0102030405060708090a0b0c0d0e0f10",
      "attributes":[{"key":"b","value":{"bytesValue":"aGVsbG8="}}]}]}]}]})",
    R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"m","sum":{"isMonotonic":true,
      "aggregationTemporality":2,"dataPoints":[{"asInt":"4"}]}},{"name":"h","histogram":
      {"dataPoints":[{"count":"3","bucketCounts":["1","2"],"explicitBounds":[1.5]}]}},
      {"name":"e","exponentialHistogram":{"dataPoints":[{"scale":3,"positive":{"offset":-1,
      "bucketCounts":["1"]}}]}}]}]}]})",
};

const char* const kTokens[] = {"{",       "}",           "[",        "]",  ",",     ":",
                               "\"",      "null",        "true",     "-1", "1e999", "\"NaN\"",
                               "\\u0000", "\"traceId\"", "{\"a\":[", "0x"};

std::string mutate(std::string s, std::mt19937_64& rng) {
  int edits = 1 + static_cast<int>(rng() % 4);
  for (int e = 0; e < edits && !s.empty(); ++e) {
    size_t pos = rng() % s.size();
    switch (rng() % 5) {
      case 0:
        s[pos] = static_cast<char>(rng() % 256);
        break;
      case 1:
        s.insert(pos, kTokens[rng() % (sizeof(kTokens) / sizeof(kTokens[0]))]);
        break;
      case 2:
        s.erase(pos, 1 + rng() % 8);
        break;
      case 3:
        s.resize(pos);
        break;
      default: {
        size_t len = std::min<size_t>(1 + rng() % 64, s.size() - pos);
        s.insert(rng() % s.size(), s.substr(pos, len));
      }
    }
  }
  return s;
}

template <typename Req>
void check(const std::string& json, common::Status (*decode_json)(std::string, Req*),
           void (*encode)(const Req&, std::string*),
           common::Status (*decode_pb)(std::string_view, Req*), int* accepted) {
  Req req;
  if (!decode_json(json, &req).ok()) return;
  ++*accepted;
  std::string pb;
  encode(req, &pb);
  Req back;
  common::Status st = decode_pb(pb, &back);
  ASSERT_TRUE(st.ok()) << st.message() << "\nfor JSON: " << json;
}

TEST(OtlpJsonRobustness, RandomMutationsNeverCrashAndAcceptedInputRoundTrips) {
  std::mt19937_64 rng(20261125);
  int accepted = 0;
  for (int i = 0; i < 6000; ++i) {
    std::string json = mutate(kSeeds[i % 3], rng);
    check<otlp::TracesRequest>(json, &decode_traces_json, &otlp::encode_traces,
                               &otlp::decode_traces, &accepted);
    check<otlp::LogsRequest>(json, &decode_logs_json, &otlp::encode_logs, &otlp::decode_logs,
                             &accepted);
    check<otlp::MetricsRequest>(json, &decode_metrics_json, &otlp::encode_metrics,
                                &otlp::decode_metrics, &accepted);
    if (HasFatalFailure()) return;
  }
  // Some mutations stay valid (the seeds decode under all three signals'
  // decoders too, which ignore unknown fields), so the round trip is exercised.
  EXPECT_GT(accepted, 1000);
}

}  // namespace
}  // namespace pyrometer::server::ingest
