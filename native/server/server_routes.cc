// add_server_routes: wires the stages' endpoints onto one Router.
#include "server/server_routes.h"

#include "server/ingest/rpc_status.h"
#include "server/query/query_routes.h"

namespace pyrometer::server {

void add_server_routes(http::Router* router, store::Store* store, ingest::IngestMetrics* metrics,
                       size_t max_body_bytes, ingest::ExtraCounters extra) {
  router->set_error_formatter(ingest::otlp_error_formatter());
  ingest::add_otlp_routes(router, store, metrics);
  ingest::add_profile_route(router, store, metrics, max_body_bytes);
  ingest::add_ops_routes(router, store, metrics, std::move(extra));
  query::add_trace_route(router, store);
  query::add_logs_route(router, store);
  query::add_services_routes(router, store);
  query::add_timeseries_route(router, store);
  query::add_trace_search_route(router, store);
  query::add_errors_route(router, store);
  query::add_queries_route(router, store);
  query::add_insights_route(router, store);
  query::add_tasks_route(router, store);
  query::add_runtime_route(router, store);
  query::add_profiles_route(router, store);
}

}  // namespace pyrometer::server
