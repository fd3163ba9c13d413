// POST /v1/profiles?service=&instance=&route=&type=&time=: a pprof body,
// gzipped (as Go and py-spy write it) or plain, validated then stored.
#include <chrono>
#include <string>

#include "common/gzip.h"
#include "common/pprof_codec.h"
#include "server/ingest/ingest_routes.h"
#include "server/ingest/rpc_status.h"

namespace pyrometer::server::ingest {

using common::Status;

namespace {

void profile_error(int status, const std::string& message, http::Response* res) {
  set_rpc_error(Encoding::kJson, status, message, res);
}

void handle_profile(store::Store* store, IngestMetrics* metrics, size_t max_body,
                    const http::Request& rq, http::Response* res) {
  store::ProfileLabels labels;
  labels.service = rq.query_param("service");
  labels.instance = rq.query_param("instance");
  labels.route = rq.query_param("route");
  labels.profile_type = rq.query_param("type");
  if (labels.service.empty()) {
    metrics->add_invalid_request(store::Signal::kProfiles);
    return profile_error(400, "missing query parameter service", res);
  }
  if (labels.profile_type.empty()) labels.profile_type = "cpu";
  if (labels.profile_type != "cpu" && labels.profile_type != "wall" &&
      labels.profile_type != "alloc" && labels.profile_type != "heap") {
    metrics->add_invalid_request(store::Signal::kProfiles);
    return profile_error(400, "query parameter type must be cpu, wall, alloc or heap", res);
  }
  bool has_time = false;
  std::string time = rq.query_param("time", &has_time);
  if (has_time) {
    char* end = nullptr;
    errno = 0;
    unsigned long long t = std::strtoull(time.c_str(), &end, 10);
    if (time.empty() || *end != '\0' || errno != 0 || time[0] == '-') {
      metrics->add_invalid_request(store::Signal::kProfiles);
      return profile_error(400, "query parameter time must be unix nanoseconds", res);
    }
    labels.time_unix_nano = t;
  } else {
    labels.time_unix_nano =
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count());
  }
  // pprof files are usually gzipped as a whole (not via Content-Encoding).
  std::string inflated;
  std::string_view pprof = rq.body;
  if (common::looks_gzipped(pprof)) {
    Status st = common::gunzip(pprof, max_body, &inflated);
    if (!st.ok()) {
      metrics->add_invalid_request(store::Signal::kProfiles);
      return profile_error(st.code() == Status::Code::kTooLarge ? 413 : 400,
                           "pprof body: " + st.message(), res);
    }
    pprof = inflated;
  }
  common::pprof::Profile decoded;
  Status st = common::pprof::decode_profile(pprof, &decoded);
  if (!st.ok()) {
    metrics->add_invalid_request(store::Signal::kProfiles);
    return profile_error(400, "invalid pprof: " + st.message(), res);
  }
  if (decoded.sample_type.empty()) {
    metrics->add_invalid_request(store::Signal::kProfiles);
    return profile_error(400, "invalid pprof: no sample_type", res);
  }
  store::AppendResult result;
  st = store->append_profile(pprof, labels, &result);
  if (!st.ok()) {
    metrics->add_refused_request(store::Signal::kProfiles);
    bool retry = st.code() == Status::Code::kUnavailable || st.code() == Status::Code::kIOError;
    int code = retry ? 503 : st.code() == Status::Code::kInvalidArgument ? 400 : 500;
    return profile_error(code, st.message(), res);
  }
  metrics->add_accepted(store::Signal::kProfiles, result.accepted);
  metrics->add_rejected(store::Signal::kProfiles, result.rejected);
  res->set(200, "application/json",
           "{\"accepted\":" + std::to_string(result.accepted) +
               ",\"rejected\":" + std::to_string(result.rejected) + "}");
}

}  // namespace

void add_profile_route(http::Router* router, store::Store* store, IngestMetrics* metrics,
                       size_t max_body) {
  router->add("POST", "/v1/profiles",
              [store, metrics, max_body](const http::Request& rq, http::Response* res) {
                handle_profile(store, metrics, max_body, rq, res);
              });
}

}  // namespace pyrometer::server::ingest
