// Registration of the read endpoints under /api/v1/ (JSON). Each endpoint
// lives in its own file; this header is the one place that lists them.
#pragma once

#include "server/http/router.h"
#include "server/store/store.h"

namespace pyrometer::server::query {

// GET /api/v1/traces/{trace_id}: every span of the trace (hex id, 32 digits)
// → {"trace_id", "spans": [...]}, spans ordered by start time; 404 when the
// trace is unknown, 400 for a malformed id. `store` must outlive the router.
void add_trace_route(http::Router* router, store::Store* store);

// GET /api/v1/logs?trace_id=&service=&event_name=&start=&end=&min_severity=&limit=
// → {"logs": [...]} newest first, at most `limit` (default 1000, max 10000).
void add_logs_route(http::Router* router, store::Store* store);

}  // namespace pyrometer::server::query
