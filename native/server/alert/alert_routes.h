// HTTP endpoints of the alert stage: rule CRUD and the event log.
#pragma once

#include "server/alert/alert_manager.h"
#include "server/http/router.h"

namespace pyrometer::server::alert {

// GET/POST /api/v1/alerts/rules, GET/PUT/DELETE /api/v1/alerts/rules/{id},
// GET /api/v1/alerts/events?after=&limit=. `manager` must outlive the router.
void add_alert_routes(http::Router* router, AlertManager* manager);

}  // namespace pyrometer::server::alert
