// Log table implementation.
#include "server/store/log_table.h"

#include "server/store/row_codec.h"
#include "server/store/span_table.h"

namespace pyrometer::server::store {

const TableSchema& log_schema() {
  static const TableSchema kSchema{
      "logs",
      {
          {"time", ColumnKind::kInt, IntEncoding::kDeltaOfDelta},
          {"observed", ColumnKind::kInt, IntEncoding::kVarint, 0, ColumnRef::kNone, kLogTime},
          {"severity", ColumnKind::kInt},
          {"severity_text", ColumnKind::kInt, IntEncoding::kVarint, 0, ColumnRef::kDictId},
          {"body", ColumnKind::kBlob, IntEncoding::kVarint, 0, ColumnRef::kAnyValue},
          {"attrs", ColumnKind::kBlob, IntEncoding::kVarint, 0, ColumnRef::kAttrs},
          {"trace_id", ColumnKind::kBlob},
          {"span_id", ColumnKind::kBlob},
          {"event_name", ColumnKind::kInt, IntEncoding::kVarint, 0, ColumnRef::kDictId},
          {"service", ColumnKind::kInt, IntEncoding::kVarint, 0, ColumnRef::kDictId},
          {"resource", ColumnKind::kInt, IntEncoding::kVarint, 0, ColumnRef::kDictAttrSet},
          {"scope_name", ColumnKind::kInt, IntEncoding::kVarint, 0, ColumnRef::kDictId},
          {"flags", ColumnKind::kInt},
      }};
  return kSchema;
}

int64_t append_logs(Table* t, const common::otlp::LogsRequest& req) {
  Dictionary& d = t->dict();
  int64_t n = 0;
  std::string buf;
  for (const auto& rl : req.resource_logs) {
    uint32_t service = d.intern(service_name_of(rl.resource));
    buf.clear();
    encode_otlp_attrs(rl.resource.attributes, &d, &buf);
    uint32_t resource = d.intern(buf);
    for (const auto& sl : rl.scope_logs) {
      uint32_t scope = d.intern(sl.scope.name);
      for (const auto& lr : sl.log_records) {
        // OTLP: time may be 0 ("unknown"); observed time is then the record's time.
        uint64_t time = lr.time_unix_nano ? lr.time_unix_nano : lr.observed_time_unix_nano;
        t->push_int(kLogTime, time);
        t->push_int(kLogObserved, lr.observed_time_unix_nano);
        t->push_int(kLogSeverity, static_cast<uint64_t>(static_cast<uint32_t>(lr.severity_number)));
        t->push_int(kLogSeverityText, d.intern(lr.severity_text));
        buf.clear();
        encode_otlp_any(lr.body, &d, &buf);
        t->push_blob(kLogBody, buf);
        buf.clear();
        encode_otlp_attrs(lr.attributes, &d, &buf);
        t->push_blob(kLogAttrs, buf);
        t->push_blob(kLogTraceId, lr.trace_id);
        t->push_blob(kLogSpanId, lr.span_id);
        t->push_int(kLogEventName, d.intern(lr.event_name));
        t->push_int(kLogService, service);
        t->push_int(kLogResource, resource);
        t->push_int(kLogScopeName, scope);
        t->push_int(kLogFlags, lr.flags);
        t->end_row();
        ++n;
      }
    }
  }
  return n;
}

Status materialize_log(const Table& t, size_t row, LogRow* out) {
  const Dictionary& d = t.dict();
  out->time_unix_nano = t.int_at(kLogTime, row);
  out->observed_time_unix_nano = t.int_at(kLogObserved, row);
  out->severity_number = static_cast<int32_t>(t.int_at(kLogSeverity, row));
  out->severity_text.assign(t.str_at(kLogSeverityText, row));
  out->trace_id.assign(t.col(kLogTraceId).blob(row));
  out->span_id.assign(t.col(kLogSpanId).blob(row));
  out->event_name.assign(t.str_at(kLogEventName, row));
  out->service.assign(t.str_at(kLogService, row));
  out->scope_name.assign(t.str_at(kLogScopeName, row));
  out->flags = static_cast<uint32_t>(t.int_at(kLogFlags, row));
  out->attributes.clear();
  out->resource_attributes.clear();
  ByteReader body(t.col(kLogBody).blob(row));
  ByteReader attrs(t.col(kLogAttrs).blob(row));
  ByteReader res(t.str_at(kLogResource, row));
  if (!decode_any(&body, d, &out->body) || !decode_attrs(&attrs, d, &out->attributes) ||
      !decode_attrs(&res, d, &out->resource_attributes)) {
    return Status::corruption("log row has malformed values");
  }
  return Status::ok_status();
}

bool log_matches(const Table& t, size_t row, const LogFilter& f) {
  uint64_t time = t.int_at(kLogTime, row);
  if (time < f.start_unix_nano || time >= f.end_unix_nano) return false;
  if (!f.service.empty() && t.str_at(kLogService, row) != f.service) return false;
  if (!f.event_name.empty() && t.str_at(kLogEventName, row) != f.event_name) return false;
  if (!f.trace_id.empty() && t.col(kLogTraceId).blob(row) != f.trace_id) return false;
  if (static_cast<int32_t>(t.int_at(kLogSeverity, row)) < f.min_severity) return false;
  return true;
}

}  // namespace pyrometer::server::store
