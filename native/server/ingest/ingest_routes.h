// Registration of the ingest endpoints (OTLP traces/metrics/logs, pprof
// profiles) and the operational ones (/healthz, /metrics) on a Router.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "server/http/router.h"
#include "server/ingest/ingest_metrics.h"
#include "server/store/store.h"

namespace pyrometer::server::ingest {

// POST /v1/traces, /v1/metrics, /v1/logs (application/x-protobuf or
// application/json) and POST /v1/profiles (pprof, labels as query
// parameters). Handlers block until the store acknowledges (WAL fsync).
// `store` and `metrics` must outlive the router; both are used concurrently.
void add_otlp_routes(http::Router* router, store::Store* store, IngestMetrics* metrics);
// `max_body` caps the pprof after gunzip (→ 413).
void add_profile_route(http::Router* router, store::Store* store, IngestMetrics* metrics,
                       size_t max_body);

// Counters owned by other layers that /metrics also reports.
struct ExtraCounters {
  std::function<uint64_t()> handler_exceptions;
  std::function<uint64_t()> protocol_errors;
  // Appends other stages' Prometheus text (e.g. the alert stage's counters).
  std::function<void(std::string*)> render_more;
};

// GET /healthz → 200 "ok"; GET /metrics → Prometheus text 0.0.4 with the
// server's self-metrics and the store's stats (store may be null).
void add_ops_routes(http::Router* router, store::Store* store, const IngestMetrics* metrics,
                    ExtraCounters extra);

}  // namespace pyrometer::server::ingest
