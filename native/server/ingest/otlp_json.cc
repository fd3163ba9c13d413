// OTLP JSON decoder on RapidJSON (in-situ DOM: strings are unescaped in place
// inside the arena-owned copy of the body, so most fields are zero-copy).
#include "server/ingest/otlp_json.h"

#include <rapidjson/error/en.h>

#include <new>
#include <string>
#include <vector>

#include "server/ingest/otlp_json_internal.h"

namespace pyrometer::server::ingest {

namespace otlp = common::otlp;
using common::Status;
using namespace json_internal;  // NOLINT: this file implements it

namespace json_internal {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int enumeration(const Value& v, Path& path, const char* name, const char* prefix,
                const std::vector<const char*>& names) {
  if (v.IsString()) {
    std::string_view s(v.GetString(), v.GetStringLength());
    std::string_view pre(prefix);
    if (s.starts_with(pre)) s.remove_prefix(pre.size());
    for (size_t i = 0; i < names.size(); ++i) {
      if (s == names[i]) return static_cast<int>(i);
    }
    if (s.empty() || s.find_first_not_of("0123456789") != std::string_view::npos) {
      Scope sc(path, name);
      path.fail("unknown enum value \"" + std::string(v.GetString()) + "\"");
    }
  }
  return integer<int32_t>(v, path, name);
}

bool base64_decode(std::string_view in, std::string* out) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  out->clear();
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    int d = val(c);
    if (d < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return true;
}

void Decoder::span(const Value& v, otlp::Span* out) {
  for_members(v, path_, [&](std::string_view k, const Value& f) {
    if (k == "traceid") {
      out->trace_id = id(f, "traceId", 16);
    } else if (k == "spanid") {
      out->span_id = id(f, "spanId", 8);
    } else if (k == "parentspanid") {
      out->parent_span_id = id(f, "parentSpanId", 8);
    } else if (k == "tracestate") {
      out->trace_state = str(f, path_, "traceState");
    } else if (k == "flags") {
      out->flags = integer<uint32_t>(f, path_, "flags");
    } else if (k == "name") {
      out->name = str(f, path_, "name");
    } else if (k == "kind") {
      int kind =
          enumeration(f, path_, "kind", "SPAN_KIND_",
                      {"UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER"});
      if (kind < 0 || kind > 5) {
        Scope sc(path_, "kind");
        path_.fail("span kind out of range");
      }
      out->kind = static_cast<otlp::SpanKind>(kind);
    } else if (k == "starttimeunixnano") {
      out->start_time_unix_nano = integer<uint64_t>(f, path_, "startTimeUnixNano");
    } else if (k == "endtimeunixnano") {
      out->end_time_unix_nano = integer<uint64_t>(f, path_, "endTimeUnixNano");
    } else if (k == "attributes") {
      attributes(f, "attributes", &out->attributes);
    } else if (k == "droppedattributescount") {
      out->dropped_attributes_count = integer<uint32_t>(f, path_, "droppedAttributesCount");
    } else if (k == "droppedeventscount") {
      out->dropped_events_count = integer<uint32_t>(f, path_, "droppedEventsCount");
    } else if (k == "droppedlinkscount") {
      out->dropped_links_count = integer<uint32_t>(f, path_, "droppedLinksCount");
    } else if (k == "events") {
      for_array(f, path_, "events", &out->events, [&](const Value& e, otlp::SpanEvent* ev) {
        for_members(e, path_, [&](std::string_view k2, const Value& f2) {
          if (k2 == "timeunixnano") {
            ev->time_unix_nano = integer<uint64_t>(f2, path_, "timeUnixNano");
          } else if (k2 == "name") {
            ev->name = str(f2, path_, "name");
          } else if (k2 == "attributes") {
            attributes(f2, "attributes", &ev->attributes);
          } else if (k2 == "droppedattributescount") {
            ev->dropped_attributes_count = integer<uint32_t>(f2, path_, "droppedAttributesCount");
          }
        });
      });
    } else if (k == "links") {
      for_array(f, path_, "links", &out->links, [&](const Value& e, otlp::SpanLink* link) {
        for_members(e, path_, [&](std::string_view k2, const Value& f2) {
          if (k2 == "traceid") {
            link->trace_id = id(f2, "traceId", 16);
          } else if (k2 == "spanid") {
            link->span_id = id(f2, "spanId", 8);
          } else if (k2 == "tracestate") {
            link->trace_state = str(f2, path_, "traceState");
          } else if (k2 == "attributes") {
            attributes(f2, "attributes", &link->attributes);
          } else if (k2 == "droppedattributescount") {
            link->dropped_attributes_count = integer<uint32_t>(f2, path_, "droppedAttributesCount");
          } else if (k2 == "flags") {
            link->flags = integer<uint32_t>(f2, path_, "flags");
          }
        });
      });
    } else if (k == "status") {
      Scope sc(path_, "status");
      for_members(f, path_, [&](std::string_view k2, const Value& f2) {
        if (k2 == "message") {
          out->status_message = str(f2, path_, "message");
        } else if (k2 == "code") {
          int code = enumeration(f2, path_, "code", "STATUS_CODE_", {"UNSET", "OK", "ERROR"});
          if (code < 0 || code > 2) {
            Scope sc2(path_, "code");
            path_.fail("status code out of range");
          }
          out->status_code = static_cast<otlp::StatusCode>(code);
        }
      });
    }
  });
}

void Decoder::log_record(const Value& v, otlp::LogRecord* out) {
  for_members(v, path_, [&](std::string_view k, const Value& f) {
    if (k == "timeunixnano") {
      out->time_unix_nano = integer<uint64_t>(f, path_, "timeUnixNano");
    } else if (k == "observedtimeunixnano") {
      out->observed_time_unix_nano = integer<uint64_t>(f, path_, "observedTimeUnixNano");
    } else if (k == "severitynumber") {
      static const std::vector<const char*> kNames = {
          "UNSPECIFIED", "TRACE",  "TRACE2", "TRACE3", "TRACE4", "DEBUG",  "DEBUG2",
          "DEBUG3",      "DEBUG4", "INFO",   "INFO2",  "INFO3",  "INFO4",  "WARN",
          "WARN2",       "WARN3",  "WARN4",  "ERROR",  "ERROR2", "ERROR3", "ERROR4",
          "FATAL",       "FATAL2", "FATAL3", "FATAL4"};
      out->severity_number = enumeration(f, path_, "severityNumber", "SEVERITY_NUMBER_", kNames);
    } else if (k == "severitytext") {
      out->severity_text = str(f, path_, "severityText");
    } else if (k == "body") {
      Scope sc(path_, "body");
      any_value(f, &out->body);
    } else if (k == "attributes") {
      attributes(f, "attributes", &out->attributes);
    } else if (k == "droppedattributescount") {
      out->dropped_attributes_count = integer<uint32_t>(f, path_, "droppedAttributesCount");
    } else if (k == "flags") {
      out->flags = integer<uint32_t>(f, path_, "flags");
    } else if (k == "traceid") {
      out->trace_id = id(f, "traceId", 16);
    } else if (k == "spanid") {
      out->span_id = id(f, "spanId", 8);
    } else if (k == "eventname") {
      out->event_name = str(f, path_, "eventName");
    }
  });
}

}  // namespace json_internal

namespace {

// Rejects input nested deeper than kMaxJsonDepth with a linear scan that
// skips string contents, before any recursive code sees it.
bool depth_ok(std::string_view json) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxJsonDepth) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

template <typename Request, typename Fn>
Status decode(std::string json, Request* out, const char* what, Fn&& fn) {
  if (!depth_ok(json)) {
    return Status::invalid_argument(std::string("invalid OTLP JSON ") + what +
                                    ": nesting deeper than " + std::to_string(kMaxJsonDepth));
  }
  // The arena owns the body; parsing in situ rewrites it in place (the
  // arena's string is mutable, only the returned view is const).
  std::string_view owned = out->arena.store(std::move(json));
  rapidjson::Document doc;
  doc.ParseInsitu<rapidjson::kParseIterativeFlag>(const_cast<char*>(owned.data()));
  if (doc.HasParseError()) {
    return Status::invalid_argument(std::string("invalid OTLP JSON ") + what + ": " +
                                    rapidjson::GetParseError_En(doc.GetParseError()) +
                                    " at offset " + std::to_string(doc.GetErrorOffset()));
  }
  Decoder decoder(&out->arena);
  try {
    if (!doc.IsObject()) decoder.path().fail("expected a JSON object");
    fn(decoder, doc);
  } catch (const JsonError& e) {
    return Status::invalid_argument(std::string("invalid OTLP JSON ") + what + ": " + e.message);
  } catch (const std::bad_alloc&) {
    return Status::too_large(std::string("OTLP JSON ") + what + " too large to decode");
  }
  return {};
}

}  // namespace

Status decode_traces_json(std::string json, otlp::TracesRequest* out) {
  return decode(
      std::move(json), out, "ExportTraceServiceRequest", [&](Decoder& d, const Value& root) {
        d.signal(root, "resourcespans", "resourceSpans", "scopespans", "scopeSpans", "spans",
                 "spans", &out->resource_spans, &otlp::ResourceSpans::scope_spans,
                 &otlp::ScopeSpans::spans, [&](const Value& v, otlp::Span* s) { d.span(v, s); });
      });
}

Status decode_logs_json(std::string json, otlp::LogsRequest* out) {
  return decode(std::move(json), out, "ExportLogsServiceRequest",
                [&](Decoder& d, const Value& root) {
                  d.signal(root, "resourcelogs", "resourceLogs", "scopelogs", "scopeLogs",
                           "logrecords", "logRecords", &out->resource_logs,
                           &otlp::ResourceLogs::scope_logs, &otlp::ScopeLogs::log_records,
                           [&](const Value& v, otlp::LogRecord* r) { d.log_record(v, r); });
                });
}

Status decode_metrics_json(std::string json, otlp::MetricsRequest* out) {
  return decode(std::move(json), out, "ExportMetricsServiceRequest",
                [&](Decoder& d, const Value& root) {
                  d.signal(root, "resourcemetrics", "resourceMetrics", "scopemetrics",
                           "scopeMetrics", "metrics", "metrics", &out->resource_metrics,
                           &otlp::ResourceMetrics::scope_metrics, &otlp::ScopeMetrics::metrics,
                           [&](const Value& v, otlp::Metric* m) { d.metric(v, m); });
                });
}

}  // namespace pyrometer::server::ingest
