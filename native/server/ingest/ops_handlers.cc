// GET /healthz and GET /metrics (the server's own Prometheus exposition).
#include <memory>
#include <string>

#include "server/ingest/ingest_routes.h"
#include "server/query/golden_signals.h"
#include "server/query/time_range.h"

namespace pyrometer::server::ingest {

void add_ops_routes(http::Router* router, store::Store* store, const IngestMetrics* metrics,
                    ExtraCounters extra) {
  router->add("GET", "/healthz", [](const http::Request&, http::Response* res) {
    res->set(200, "text/plain; charset=utf-8", "ok\n");
  });
  // Per-service golden signals (query stage); keeps cumulative counters across scrapes.
  auto golden = store ? std::make_shared<query::GoldenSignals>(store) : nullptr;
  router->add("GET", "/metrics",
              [store, metrics, extra, golden](const http::Request&, http::Response* res) {
                std::string body;
                body.reserve(16 * 1024);
                uint64_t exceptions = extra.handler_exceptions ? extra.handler_exceptions() : 0;
                uint64_t protocol = extra.protocol_errors ? extra.protocol_errors() : 0;
                if (store != nullptr) {
                  store::StoreStats stats = store->stats();
                  metrics->render(&stats, exceptions, protocol, &body);
                  golden->render(query::now_unix_nano(), &body);
                } else {
                  metrics->render(nullptr, exceptions, protocol, &body);
                }
                if (extra.render_more) extra.render_more(&body);
                res->set(200, "text/plain; version=0.0.4; charset=utf-8", std::move(body));
              });
}

}  // namespace pyrometer::server::ingest
