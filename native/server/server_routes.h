// The full route table of pyrometer-server (ingest, query, ops), in one place
// so main.cc and the end-to-end C++ tests serve exactly the same endpoints.
#pragma once

#include <cstddef>

#include "server/http/router.h"
#include "server/ingest/ingest_metrics.h"
#include "server/ingest/ingest_routes.h"
#include "server/store/store.h"

namespace pyrometer::server {

// Registers every endpoint on `router` and the OTLP-aware error formatter.
// `store` and `metrics` must outlive the router. Setup only (not thread-safe).
void add_server_routes(http::Router* router, store::Store* store, ingest::IngestMetrics* metrics,
                       size_t max_body_bytes, ingest::ExtraCounters extra);

}  // namespace pyrometer::server
