// POST /v1/traces, /v1/metrics, /v1/logs: decode (protobuf or JSON), hand to
// the store, answer per the OTLP/HTTP spec in the request's content type.
#include <string>
#include <utility>

#include "common/otlp_codec.h"
#include "server/ingest/ingest_routes.h"
#include "server/ingest/otlp_json.h"
#include "server/ingest/rpc_status.h"

namespace pyrometer::server::ingest {

namespace otlp = common::otlp;
using common::Status;

namespace {

// What differs between the three signals.
template <typename Req>
struct SignalOps {
  store::Signal signal;
  const char* message_name;        // for error messages
  const char* rejected_json_name;  // partialSuccess field in the JSON response
  Status (*decode_pb)(std::string_view, Req*);
  Status (*decode_json)(std::string, Req*);
  void (*encode_pb)(const Req&, std::string*);
  Status (store::Store::*append)(std::string_view, const Req&, store::AppendResult*);
};

void success_response(Encoding enc, const char* rejected_json_name,
                      const store::AppendResult& result, http::Response* res) {
  otlp::PartialSuccess partial;
  if (result.rejected > 0) {
    partial.rejected = result.rejected;
    partial.error_message = result.reject_reason;
  }
  if (enc == Encoding::kProtobuf) {
    std::string body;
    otlp::encode_export_response(partial, &body);
    res->set(200, "application/x-protobuf", std::move(body));
    return;
  }
  std::string body = "{";
  if (partial.rejected > 0) {
    // proto3 JSON writes int64 as a string.
    body += "\"partialSuccess\":{\"";
    body += rejected_json_name;
    body += "\":\"" + std::to_string(partial.rejected) + "\",\"errorMessage\":";
    append_json_string(partial.error_message, &body);
    body += "}";
  }
  body += "}";
  res->set(200, "application/json", std::move(body));
}

// Maps a store failure to the OTLP/HTTP answer. Unavailable is retryable
// (503 + Retry-After), as is an I/O error (disk full may clear); the data
// was not written, so the client must keep it.
void store_failure(Encoding enc, const Status& st, http::Response* res) {
  using Code = Status::Code;
  switch (st.code()) {
    case Code::kUnavailable:
      set_rpc_error(enc, 503, "server busy, retry later: " + st.message(), res);
      break;
    case Code::kIOError:
      set_rpc_error(enc, 503, "storage error, retry later: " + st.message(), res);
      break;
    case Code::kTooLarge:
      set_rpc_error(enc, 413, st.message(), res);
      break;
    case Code::kInvalidArgument:
      set_rpc_error(enc, 400, st.message(), res);
      break;
    default:
      set_rpc_error(enc, 500, "internal error: " + st.to_string(), res);
  }
}

template <typename Req>
void handle(const SignalOps<Req>& ops, store::Store* store, IngestMetrics* metrics,
            const http::Request& rq, http::Response* res) {
  Encoding enc = encoding_of(rq);
  if (enc == Encoding::kUnsupported) {
    metrics->add_invalid_request(ops.signal);
    set_rpc_error(Encoding::kJson, 415,
                  "unsupported content type \"" + std::string(rq.header("content-type")) +
                      "\": use application/x-protobuf or application/json",
                  res);
    return;
  }
  Req req;
  std::string json_reencoded;
  std::string_view encoded;
  Status st;
  if (enc == Encoding::kProtobuf) {
    st = ops.decode_pb(rq.body, &req);
    if (!st.ok())
      st = Status::invalid_argument(std::string("invalid OTLP protobuf ") + ops.message_name +
                                    ": " + st.message());
    encoded = rq.body;
  } else {
    // The decoder keeps its own copy of the body in req.arena.
    st = ops.decode_json(rq.body, &req);
    if (st.ok()) {
      // The WAL stores protobuf only, so JSON requests are re-encoded.
      ops.encode_pb(req, &json_reencoded);
      encoded = json_reencoded;
    }
  }
  if (!st.ok()) {
    metrics->add_invalid_request(ops.signal);
    set_rpc_error(enc, st.code() == Status::Code::kTooLarge ? 413 : 400, st.message(), res);
    return;
  }
  store::AppendResult result;
  st = (store->*ops.append)(encoded, req, &result);
  if (!st.ok()) {
    metrics->add_refused_request(ops.signal);
    store_failure(enc, st, res);
    return;
  }
  metrics->add_accepted(ops.signal, result.accepted);
  metrics->add_rejected(ops.signal, result.rejected);
  success_response(enc, ops.rejected_json_name, result, res);
}

}  // namespace

void add_otlp_routes(http::Router* router, store::Store* store, IngestMetrics* metrics) {
  static const SignalOps<otlp::TracesRequest> kTraces{
      store::Signal::kTraces,      "ExportTraceServiceRequest", "rejectedSpans",
      &otlp::decode_traces,        &decode_traces_json,         &otlp::encode_traces,
      &store::Store::append_traces};
  static const SignalOps<otlp::MetricsRequest> kMetrics{
      store::Signal::kMetrics,      "ExportMetricsServiceRequest", "rejectedDataPoints",
      &otlp::decode_metrics,        &decode_metrics_json,          &otlp::encode_metrics,
      &store::Store::append_metrics};
  static const SignalOps<otlp::LogsRequest> kLogs{
      store::Signal::kLogs,      "ExportLogsServiceRequest", "rejectedLogRecords",
      &otlp::decode_logs,        &decode_logs_json,          &otlp::encode_logs,
      &store::Store::append_logs};
  router->add("POST", "/v1/traces", [store, metrics](const http::Request& rq, http::Response* r) {
    handle(kTraces, store, metrics, rq, r);
  });
  router->add("POST", "/v1/metrics", [store, metrics](const http::Request& rq, http::Response* r) {
    handle(kMetrics, store, metrics, rq, r);
  });
  router->add("POST", "/v1/logs", [store, metrics](const http::Request& rq, http::Response* r) {
    handle(kLogs, store, metrics, rq, r);
  });
}

}  // namespace pyrometer::server::ingest
