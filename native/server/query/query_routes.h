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

// The list endpoints below share since/until (RFC 3339, -1h, now; default the
// last hour), service, limit and cursor, and answer
// {"since", "until", "items": [...], "total", "next_cursor"}; 400 with
// {"error"} on bad parameters. Shapes: docs/openapi.yaml.

// GET /api/v1/services and GET /api/v1/services/{service}/endpoints: RED,
// Apdex, instances, CPU and RSS from the rollups and runtime metrics.
void add_services_routes(http::Router* router, store::Store* store);
// GET /api/v1/timeseries?service=&endpoint=&metric=&step=
void add_timeseries_route(http::Router* router, store::Store* store);
// GET /api/v1/traces: trace search → trace summaries.
void add_trace_search_route(http::Router* router, store::Store* store);
// GET /api/v1/errors: exceptions grouped by fingerprint.
void add_errors_route(http::Router* router, store::Store* store);
// GET /api/v1/queries: DB statements grouped by fingerprint.
void add_queries_route(http::Router* router, store::Store* store);
// GET /api/v1/insights: findings grouped by fingerprint.
void add_insights_route(http::Router* router, store::Store* store);
// GET /api/v1/tasks: Celery tasks and queue depths.
void add_tasks_route(http::Router* router, store::Store* store);
// GET /api/v1/runtime: latest runtime values per instance.
void add_runtime_route(http::Router* router, store::Store* store);
// GET /api/v1/profiles: merged call tree (json|collapsed|pprof).
void add_profiles_route(http::Router* router, store::Store* store);

}  // namespace pyrometer::server::query
