// The alert stage's self-metrics (evaluation errors, webhook deliveries and
// TLS verification failures) in Prometheus text format, for /metrics.
#pragma once

#include <string>

#include "server/alert/alert_manager.h"

namespace pyrometer::server::alert {

// Appends HELP/TYPE/sample lines to `out`. Thread-safe (reads counters).
void render_alert_metrics(const AlertManager& alerts, std::string* out);

}  // namespace pyrometer::server::alert
