// GET /healthz and GET /metrics (the server's own Prometheus exposition).
#include <string>

#include "server/ingest/ingest_routes.h"

namespace pyrometer::server::ingest {

void add_ops_routes(http::Router* router, store::Store* store, const IngestMetrics* metrics,
                    ExtraCounters extra) {
  router->add("GET", "/healthz", [](const http::Request&, http::Response* res) {
    res->set(200, "text/plain; charset=utf-8", "ok\n");
  });
  router->add("GET", "/metrics",
              [store, metrics, extra](const http::Request&, http::Response* res) {
                std::string body;
                body.reserve(16 * 1024);
                uint64_t exceptions = extra.handler_exceptions ? extra.handler_exceptions() : 0;
                uint64_t protocol = extra.protocol_errors ? extra.protocol_errors() : 0;
                if (store != nullptr) {
                  store::StoreStats stats = store->stats();
                  metrics->render(&stats, exceptions, protocol, &body);
                } else {
                  metrics->render(nullptr, exceptions, protocol, &body);
                }
                res->set(200, "text/plain; version=0.0.4; charset=utf-8", std::move(body));
              });
}

}  // namespace pyrometer::server::ingest
