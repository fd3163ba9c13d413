// Wire codec for ExportLogsServiceRequest (collector/logs/v1, logs/v1): log
// records, which also carry Pyrometer's insights (event.name "pyrometer.insight").
#include <protozero/pbf_writer.hpp>

#include "common/otlp_codec.h"
#include "common/otlp_common_codec.h"

namespace pyrometer::common::otlp {

using protozero::pbf_reader;
using protozero::pbf_writer;

namespace {

void decode_log_record(pbf_reader r, proto::DecodePath& p, LogRecord* out) {
  out->attributes.reserve(proto::count_field(r, 6));
  while (proto::next_field(r, p)) {
    switch (r.tag()) {
      case 1:
        out->time_unix_nano = proto::read_fixed64(r, p, "time_unix_nano");
        break;
      case 2:
        out->severity_number = proto::read_enum(r, p, "severity_number");
        break;
      case 3:
        out->severity_text = proto::read_bytes(r, p, "severity_text");
        break;
      case 5:
        detail::decode_singular(r, p, "body", &out->body, detail::decode_any_value);
        break;
      case 6:
        detail::decode_attribute(r, p, "attributes", &out->attributes);
        break;
      case 7:
        out->dropped_attributes_count = proto::read_uint32(r, p, "dropped_attributes_count");
        break;
      case 8:
        out->flags = proto::read_fixed32(r, p, "flags");
        break;
      case 9:
        out->trace_id = proto::read_bytes(r, p, "trace_id");
        break;
      case 10:
        out->span_id = proto::read_bytes(r, p, "span_id");
        break;
      case 11:
        out->observed_time_unix_nano = proto::read_fixed64(r, p, "observed_time_unix_nano");
        break;
      case 12:
        out->event_name = proto::read_bytes(r, p, "event_name");
        break;
      default:
        r.skip();
    }
  }
  proto::check_id_length(out->trace_id, 16, p, "trace_id");
  proto::check_id_length(out->span_id, 8, p, "span_id");
}

void decode_scope_logs(pbf_reader r, proto::DecodePath& p, ScopeLogs* out) {
  out->log_records.reserve(proto::count_field(r, 2));
  while (proto::next_field(r, p)) {
    switch (r.tag()) {
      case 1:
        detail::decode_singular(r, p, "scope", &out->scope, detail::decode_scope);
        break;
      case 2:
        detail::decode_repeated(r, p, "log_records", &out->log_records, decode_log_record);
        break;
      case 3:
        out->schema_url = proto::read_bytes(r, p, "schema_url");
        break;
      default:
        r.skip();
    }
  }
}

void decode_resource_logs(pbf_reader r, proto::DecodePath& p, ResourceLogs* out) {
  while (proto::next_field(r, p)) {
    switch (r.tag()) {
      case 1:
        detail::decode_singular(r, p, "resource", &out->resource, detail::decode_resource);
        break;
      case 2:
        detail::decode_repeated(r, p, "scope_logs", &out->scope_logs, decode_scope_logs);
        break;
      case 3:
        out->schema_url = proto::read_bytes(r, p, "schema_url");
        break;
      default:
        r.skip();
    }
  }
}

void encode_log_record(pbf_writer& m, const detail::Writer& w, const LogRecord& l) {
  detail::put_fixed64(m, 1, l.time_unix_nano);
  detail::put_enum(m, 2, l.severity_number);
  detail::put_string(m, 3, l.severity_text);
  if (l.body.type != AnyValue::Type::kEmpty) {
    detail::write_message(m, w, 5, /*keep_empty=*/false,
                          [&](pbf_writer& bm) { detail::encode_any_value_body(bm, w, l.body); });
  }
  detail::encode_key_values(m, w, 6, l.attributes);
  detail::put_uint32(m, 7, l.dropped_attributes_count);
  detail::put_fixed32(m, 8, l.flags);
  detail::put_string(m, 9, l.trace_id);
  detail::put_string(m, 10, l.span_id);
  detail::put_fixed64(m, 11, l.observed_time_unix_nano);
  detail::put_string(m, 12, l.event_name);
}

}  // namespace

Status decode_logs(std::string_view data, LogsRequest* out) {
  return proto::decode_status(
      data, "ExportLogsServiceRequest", kMaxNesting, [&](pbf_reader& r, proto::DecodePath& p) {
        while (proto::next_field(r, p)) {
          if (r.tag() == 1) {
            detail::decode_repeated(r, p, "resource_logs", &out->resource_logs,
                                    decode_resource_logs);
          } else {
            r.skip();
          }
        }
      });
}

void encode_logs(const LogsRequest& req, std::string* out) {
  const detail::Writer w{out};
  pbf_writer root(*out);
  for (const ResourceLogs& rl : req.resource_logs) {
    detail::write_message(root, w, 1, /*keep_empty=*/true, [&](pbf_writer& rlw) {
      detail::encode_resource(rlw, w, 1, rl.resource);
      for (const ScopeLogs& sl : rl.scope_logs) {
        detail::write_message(rlw, w, 2, /*keep_empty=*/true, [&](pbf_writer& slw) {
          detail::encode_scope(slw, w, 1, sl.scope);
          for (const LogRecord& l : sl.log_records) {
            detail::write_message(slw, w, 2, /*keep_empty=*/true,
                                  [&](pbf_writer& lw) { encode_log_record(lw, w, l); });
          }
          detail::put_string(slw, 3, sl.schema_url);
        });
      }
      detail::put_string(rlw, 3, rl.schema_url);
    });
  }
}

}  // namespace pyrometer::common::otlp
