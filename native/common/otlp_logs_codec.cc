// Wire codec for ExportLogsServiceRequest (collector/logs/v1, logs/v1): log
// records, which also carry Pyrometer's insights (event.name "pyrometer.insight").
#include <protozero/pbf_writer.hpp>

#include "common/otlp_codec.h"
#include "common/otlp_common_codec.h"
#include "common/otlp_envelope.h"

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

constexpr detail::Envelope<LogsRequest, ResourceLogs, ScopeLogs, LogRecord> kEnvelope{
    "ExportLogsServiceRequest",
    &LogsRequest::resource_logs,
    "resource_logs",
    &ResourceLogs::scope_logs,
    "scope_logs",
    &ScopeLogs::log_records,
    "log_records"};

}  // namespace

Status decode_logs(std::string_view data, LogsRequest* out) {
  return detail::decode_envelope(data, kEnvelope, decode_log_record, out);
}

void encode_logs(const LogsRequest& req, std::string* out) {
  detail::encode_envelope(req, kEnvelope, encode_log_record, out);
}

}  // namespace pyrometer::common::otlp
