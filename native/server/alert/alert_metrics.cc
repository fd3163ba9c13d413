// Prometheus text for the alert stage: counters only, no labels beyond the
// fixed delivery result, so cardinality stays constant.
#include "server/alert/alert_metrics.h"

namespace pyrometer::server::alert {

namespace {

void counter(std::string* out, const char* name, const char* help) {
  *out += "# HELP ";
  *out += name;
  *out += ' ';
  *out += help;
  *out += "\n# TYPE ";
  *out += name;
  *out += " counter\n";
}

}  // namespace

void render_alert_metrics(const AlertManager& alerts, std::string* out) {
  const WebhookSender& w = alerts.webhooks();
  counter(out, "pyrometer_alert_evaluation_errors_total",
          "Alert rule evaluations that failed (store read errors).");
  *out += "pyrometer_alert_evaluation_errors_total " + std::to_string(alerts.evaluation_errors()) +
          "\n";
  counter(out, "pyrometer_alert_webhook_notifications_total",
          "Alert notifications by outcome: sent (2xx), failed (every attempt failed), "
          "dropped (queue full).");
  *out += "pyrometer_alert_webhook_notifications_total{result=\"sent\"} " +
          std::to_string(w.sent()) + "\n";
  *out += "pyrometer_alert_webhook_notifications_total{result=\"failed\"} " +
          std::to_string(w.failed()) + "\n";
  *out += "pyrometer_alert_webhook_notifications_total{result=\"dropped\"} " +
          std::to_string(w.dropped()) + "\n";
  counter(out, "pyrometer_alert_webhook_tls_verify_failures_total",
          "Webhook POST attempts whose https receiver failed certificate or host-name "
          "verification.");
  *out += "pyrometer_alert_webhook_tls_verify_failures_total " +
          std::to_string(w.tls_verify_failures()) + "\n";
}

}  // namespace pyrometer::server::alert
