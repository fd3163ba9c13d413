// Shared parameter parsing, envelopes and attribute helpers of the query API.
#include "server/query/query_common.h"

#include <cstdio>

namespace pyrometer::server::query {

void json_error(int status, const std::string& message, http::Response* res) {
  JsonWriter w;
  w.begin_object();
  w.key("error");
  w.string(message);
  w.end_object();
  res->set(status, "application/json", w.take());
}

bool parse_list_params(const http::Request& rq, size_t default_limit, size_t max_limit,
                       ListParams* out, http::Response* res) {
  common::Status st = parse_time_range(rq, now_unix_nano(), &out->range);
  if (st.ok()) st = parse_page(rq, default_limit, max_limit, &out->page);
  if (!st.ok()) {
    json_error(400, st.message(), res);
    return false;
  }
  out->service = rq.query_param("service");
  return true;
}

void begin_list(const TimeRange& range, JsonWriter* w) {
  w->begin_object();
  w->key("since");
  w->string(format_rfc3339(range.start_unix_nano));
  w->key("until");
  w->string(format_rfc3339(range.end_unix_nano));
  w->key("items");
  w->begin_array();
}

void end_list(const Page& page, size_t total, JsonWriter* w) {
  w->end_array();
  w->key("total");
  w->uint64(total);
  w->key("next_cursor");
  size_t end = page_end(page, total);
  if (end < total) {
    w->string(encode_cursor(end));
  } else {
    w->null();
  }
  w->end_object();
}

const store::AttrValue* find_attr(const std::vector<store::Attribute>& attrs,
                                  std::string_view key) {
  for (const auto& a : attrs) {
    if (a.key == key) return &a.value;
  }
  return nullptr;
}

std::string_view attr_str(const std::vector<store::Attribute>& attrs, std::string_view key) {
  const store::AttrValue* v = find_attr(attrs, key);
  if (v == nullptr || v->type != store::AttrValue::Type::kString) return {};
  return v->str;
}

std::string attr_text(const store::AttrValue& v) {
  using T = store::AttrValue::Type;
  switch (v.type) {
    case T::kInt:
      return std::to_string(v.i);
    case T::kBool:
      return v.i ? "true" : "false";
    case T::kDouble: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", v.d);
      return buf;
    }
    case T::kEmpty:
      return {};
    default:
      return v.str;
  }
}

bool attr_int(const std::vector<store::Attribute>& attrs, std::string_view key, int64_t* out) {
  const store::AttrValue* v = find_attr(attrs, key);
  if (v == nullptr) return false;
  if (v->type == store::AttrValue::Type::kInt) {
    *out = v->i;
    return true;
  }
  if (v->type == store::AttrValue::Type::kDouble) {
    *out = static_cast<int64_t>(v->d);
    return true;
  }
  return false;
}

std::string instance_of(const std::vector<store::Attribute>& resource) {
  std::string_view id = attr_str(resource, "service.instance.id");
  if (!id.empty()) return std::string(id);
  std::string host(attr_str(resource, "host.name"));
  const store::AttrValue* pid = find_attr(resource, "process.pid");
  if (host.empty() && pid == nullptr) return "unknown";
  return host + ":" + (pid ? attr_text(*pid) : std::string("?"));
}

std::string_view endpoint_of(const store::SpanRow& s) {
  std::string_view route = attr_str(s.attributes, "http.route");
  return route.empty() ? std::string_view(s.name) : route;
}

void write_opt(JsonWriter* w, bool has, double v) {
  if (has) {
    w->number(v);
  } else {
    w->null();
  }
}

}  // namespace pyrometer::server::query
