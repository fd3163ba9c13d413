// Rule CRUD (JSON bodies with the fields of rule_from_fields) and events.
#include "server/alert/alert_routes.h"

#include <rapidjson/document.h>

#include <cstdlib>

#include "server/query/json_writer.h"
#include "server/query/query_common.h"
#include "server/query/time_range.h"

namespace pyrometer::server::alert {

namespace {

using query::json_error;
using query::JsonWriter;

void write_rule(const Rule& r, JsonWriter* w) {
  w->begin_object();
  auto str = [w](const char* k, const std::string& v) {
    w->key(k);
    w->string(v);
  };
  str("id", r.id);
  str("name", r.name);
  str("metric", r.metric);
  str("service", r.service);
  str("endpoint", r.endpoint);
  str("op", r.op);
  w->key("threshold");
  w->number(r.threshold);
  w->key("window_seconds");
  w->number(static_cast<double>(r.window_ns) / 1e9);
  w->key("for_seconds");
  w->number(static_cast<double>(r.for_ns) / 1e9);
  str("severity", r.severity);
  str("min_severity", r.min_severity);
  w->key("min_requests");
  w->uint64(r.min_requests);
  str("webhook", r.webhook);
  str("webhook_format", r.webhook_format);
  w->key("enabled");
  w->boolean(r.enabled);
  w->end_object();
}

void write_event(const AlertEvent& e, JsonWriter* w) {
  w->begin_object();
  w->key("seq");
  w->uint64(e.seq);
  w->key("time");
  w->string(query::format_rfc3339(e.time_unix_nano));
  w->key("rule_id");
  w->string(e.rule_id);
  w->key("rule");
  w->string(e.rule_name);
  w->key("service");
  w->string(e.service);
  w->key("endpoint");
  w->string(e.endpoint);
  w->key("metric");
  w->string(e.metric);
  w->key("state");
  w->string(e.state);
  w->key("value");
  w->number(e.value);
  w->key("op");
  w->string(e.op);
  w->key("threshold");
  w->number(e.threshold);
  w->key("severity");
  w->string(e.severity);
  w->end_object();
}

// Parses a JSON object body into rule fields; false after writing a 400.
bool body_fields(const http::Request& rq, std::map<std::string, std::string>* out,
                 http::Response* res) {
  rapidjson::Document doc;
  doc.Parse(rq.body.data(), rq.body.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    json_error(400, "body must be a JSON object with the rule's fields", res);
    return false;
  }
  for (const auto& m : doc.GetObject()) {
    const auto& v = m.value;
    std::string text;
    if (v.IsString()) {
      text = v.GetString();
    } else if (v.IsBool()) {
      text = v.GetBool() ? "true" : "false";
    } else if (v.IsNumber()) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", v.GetDouble());
      text = buf;
    } else if (!v.IsNull()) {
      json_error(400, std::string("rule field ") + m.name.GetString() + " must be a scalar", res);
      return false;
    }
    (*out)[m.name.GetString()] = text;
  }
  return true;
}

void respond_rule(AlertManager* m, const std::string& id, int status, http::Response* res) {
  Rule r;
  if (!m->get_rule(id, &r)) return json_error(404, "no rule " + id, res);
  JsonWriter w;
  write_rule(r, &w);
  res->set(status, "application/json", w.take());
}

void put(AlertManager* m, const http::Request& rq, const std::string& id, http::Response* res) {
  std::map<std::string, std::string> fields;
  if (!body_fields(rq, &fields, res)) return;
  if (!id.empty()) fields["id"] = id;
  Rule r;
  common::Status st = rule_from_fields(fields, &r);
  std::string new_id;
  if (st.ok()) st = m->put_rule(std::move(r), &new_id);
  if (!st.ok()) return json_error(400, st.message(), res);
  respond_rule(m, new_id, id.empty() ? 201 : 200, res);
}

}  // namespace

void add_alert_routes(http::Router* router, AlertManager* m) {
  router->add("GET", "/api/v1/alerts/rules", [m](const http::Request&, http::Response* res) {
    JsonWriter w;
    w.begin_object();
    w.key("items");
    w.begin_array();
    for (const Rule& r : m->rules()) write_rule(r, &w);
    w.end_array();
    w.end_object();
    res->set(200, "application/json", w.take());
  });
  router->add("POST", "/api/v1/alerts/rules",
              [m](const http::Request& rq, http::Response* res) { put(m, rq, "", res); });
  router->add("GET", "/api/v1/alerts/rules/{id}",
              [m](const http::Request& rq, http::Response* res) {
                respond_rule(m, http::url_decode(rq.path_param), 200, res);
              });
  router->add("PUT", "/api/v1/alerts/rules/{id}",
              [m](const http::Request& rq, http::Response* res) {
                put(m, rq, http::url_decode(rq.path_param), res);
              });
  router->add("DELETE", "/api/v1/alerts/rules/{id}",
              [m](const http::Request& rq, http::Response* res) {
                std::string id = http::url_decode(rq.path_param);
                if (!m->delete_rule(id)) return json_error(404, "no rule " + id, res);
                res->set(204, "application/json", "");
              });
  router->add("GET", "/api/v1/alerts/events", [m](const http::Request& rq, http::Response* res) {
    uint64_t after = std::strtoull(rq.query_param("after").c_str(), nullptr, 10);
    long limit = std::strtol(rq.query_param("limit").c_str(), nullptr, 10);
    if (limit <= 0 || limit > 10000) limit = 1000;
    JsonWriter w;
    w.begin_object();
    w.key("items");
    w.begin_array();
    for (const auto& e : m->events(after, static_cast<size_t>(limit))) write_event(e, &w);
    w.end_array();
    w.key("active");
    w.begin_array();
    for (const auto& e : m->active()) write_event(e, &w);
    w.end_array();
    w.end_object();
    res->set(200, "application/json", w.take());
  });
}

}  // namespace pyrometer::server::alert
