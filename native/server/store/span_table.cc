// Span table implementation.
#include "server/store/span_table.h"

#include "server/store/row_codec.h"

namespace pyrometer::server::store {

const TableSchema& span_schema() {
  static const TableSchema kSchema{
      "spans",
      {
          {"trace_id", ColumnKind::kFixed, IntEncoding::kVarint, 16},
          {"span_id", ColumnKind::kFixed, IntEncoding::kVarint, 8},
          {"parent_id", ColumnKind::kFixed, IntEncoding::kVarint, 8},
          {"start", ColumnKind::kInt, IntEncoding::kDelta},
          {"duration", ColumnKind::kInt, IntEncoding::kVarint, 0, ColumnRef::kNone, kSpanStart},
          {"service", ColumnKind::kInt, IntEncoding::kVarint, 0, ColumnRef::kDictId},
          {"name", ColumnKind::kInt, IntEncoding::kVarint, 0, ColumnRef::kDictId},
          {"kind_status", ColumnKind::kInt},
          {"status_message", ColumnKind::kInt, IntEncoding::kVarint, 0, ColumnRef::kDictId},
          {"trace_state", ColumnKind::kInt, IntEncoding::kVarint, 0, ColumnRef::kDictId},
          {"flags", ColumnKind::kInt},
          {"resource", ColumnKind::kInt, IntEncoding::kVarint, 0, ColumnRef::kDictAttrSet},
          {"scope_name", ColumnKind::kInt, IntEncoding::kVarint, 0, ColumnRef::kDictId},
          {"scope_version", ColumnKind::kInt, IntEncoding::kVarint, 0, ColumnRef::kDictId},
          {"attrs", ColumnKind::kBlob, IntEncoding::kVarint, 0, ColumnRef::kAttrs},
          {"extras", ColumnKind::kBlob, IntEncoding::kVarint, 0, ColumnRef::kSpanExtras},
      }};
  return kSchema;
}

std::string_view service_name_of(const common::otlp::Resource& res) {
  for (const auto& kv : res.attributes) {
    if (kv.key == "service.name" && kv.value.type == common::otlp::AnyValue::Type::kString) {
      return kv.value.string_value;
    }
  }
  return {};
}

SpanContextIds intern_span_context(Table* t, const common::otlp::Resource& res,
                                   const common::otlp::InstrumentationScope& scope) {
  SpanContextIds ids;
  Dictionary& d = t->dict();
  ids.service = d.intern(service_name_of(res));
  std::string enc;
  encode_otlp_attrs(res.attributes, &d, &enc);
  ids.resource = d.intern(enc);
  ids.scope_name = d.intern(scope.name);
  ids.scope_version = d.intern(scope.version);
  return ids;
}

void append_span(Table* t, const common::otlp::Span& span, const SpanContextIds& ids) {
  Dictionary& d = t->dict();
  t->push_fixed(kSpanTraceId, span.trace_id);
  t->push_fixed(kSpanSpanId, span.span_id);
  t->push_fixed(kSpanParent, span.parent_span_id);
  t->push_int(kSpanStart, span.start_time_unix_nano);
  t->push_int(kSpanEnd, span.end_time_unix_nano);
  t->push_int(kSpanService, ids.service);
  t->push_int(kSpanName, d.intern(span.name));
  t->push_int(kSpanKindStatus,
              static_cast<uint64_t>(span.kind) | (static_cast<uint64_t>(span.status_code) << 3));
  t->push_int(kSpanStatusMessage, d.intern(span.status_message));
  t->push_int(kSpanTraceState, d.intern(span.trace_state));
  t->push_int(kSpanFlags, span.flags);
  t->push_int(kSpanResource, ids.resource);
  t->push_int(kSpanScopeName, ids.scope_name);
  t->push_int(kSpanScopeVersion, ids.scope_version);
  std::string buf;
  encode_otlp_attrs(span.attributes, &d, &buf);
  t->push_blob(kSpanAttrs, buf);
  buf.clear();
  encode_otlp_extras(span, &d, &buf);
  t->push_blob(kSpanExtras, buf);
  t->end_row();
}

void append_truncation_marker(Table* t, std::string_view trace_id, uint64_t time_unix_nano,
                              uint32_t service_id, uint32_t resource_id) {
  common::otlp::Span marker;
  marker.trace_id = trace_id;
  marker.span_id = std::string_view("\xff\xff\xff\xff\xff\xff\xff\xff", 8);
  marker.name = kTruncatedAttr;
  marker.kind = common::otlp::SpanKind::kInternal;
  marker.start_time_unix_nano = time_unix_nano;
  marker.end_time_unix_nano = time_unix_nano;
  marker.attributes.push_back({kTruncatedAttr, common::otlp::AnyValue::of_bool(true)});
  SpanContextIds ids;
  ids.service = service_id;
  ids.resource = resource_id;
  append_span(t, marker, ids);
}

Status materialize_span(const Table& t, size_t row, SpanRow* out, uint32_t skip_fields) {
  const Dictionary& d = t.dict();
  out->trace_id.assign(t.fixed_at(kSpanTraceId, row));
  out->span_id.assign(t.fixed_at(kSpanSpanId, row));
  std::string_view parent = t.fixed_at(kSpanParent, row);
  if (parent.find_first_not_of('\0') == std::string_view::npos) {
    out->parent_span_id.clear();
  } else {
    out->parent_span_id.assign(parent);
  }
  out->start_time_unix_nano = t.int_at(kSpanStart, row);
  out->end_time_unix_nano = t.int_at(kSpanEnd, row);
  out->service.assign(t.str_at(kSpanService, row));
  out->name.assign(t.str_at(kSpanName, row));
  uint64_t ks = t.int_at(kSpanKindStatus, row);
  out->kind = static_cast<uint8_t>(ks & 7);
  out->status_code = static_cast<uint8_t>((ks >> 3) & 3);
  out->status_message.assign(t.str_at(kSpanStatusMessage, row));
  out->trace_state.assign(t.str_at(kSpanTraceState, row));
  out->flags = static_cast<uint32_t>(t.int_at(kSpanFlags, row));
  out->scope_name.clear();
  out->scope_version.clear();
  if (!(skip_fields & kSpanFieldScope)) {
    out->scope_name.assign(t.str_at(kSpanScopeName, row));
    out->scope_version.assign(t.str_at(kSpanScopeVersion, row));
  }
  out->attributes.clear();
  out->resource_attributes.clear();
  out->events.clear();
  out->links.clear();
  ByteReader attrs(t.col(kSpanAttrs).blob(row));
  bool ok = decode_attrs(&attrs, d, &out->attributes);
  if (ok && !(skip_fields & kSpanFieldResource)) {
    ByteReader res(t.str_at(kSpanResource, row));
    ok = decode_attrs(&res, d, &out->resource_attributes);
  }
  if (ok && !(skip_fields & kSpanFieldExtras)) {
    ByteReader extras(t.col(kSpanExtras).blob(row));
    ok = decode_extras(&extras, d, out);
  }
  if (!ok) return Status::corruption("span row has malformed attributes");
  return Status::ok_status();
}

ResolvedSpanFilter resolve_span_filter(const Table& t, const SpanFilter& f) {
  ResolvedSpanFilter r;
  r.filter = &f;
  if (!f.service.empty()) {
    r.by_service = true;
    if (!t.dict().find(f.service, &r.service)) r.impossible = true;
  }
  if (!f.name.empty()) {
    r.by_name = true;
    if (!t.dict().find(f.name, &r.name)) r.impossible = true;
  }
  if (!f.route.empty()) {
    uint32_t unused;
    if (!t.dict().find(f.route, &unused)) r.impossible = true;
  }
  return r;
}

bool span_matches(const Table& t, size_t row, const ResolvedSpanFilter& f) {
  if (f.impossible) return false;
  uint64_t start = t.int_at(kSpanStart, row);
  if (start < f.filter->start_unix_nano || start >= f.filter->end_unix_nano) return false;
  if (f.by_service && t.int_at(kSpanService, row) != f.service) return false;
  if (f.by_name && t.int_at(kSpanName, row) != f.name) return false;
  if (f.filter->any_of != 0 && (span_classes(t, row) & f.filter->any_of) == 0) return false;
  if (f.filter->trace_ids != nullptr &&
      f.filter->trace_ids->find(t.fixed_at(kSpanTraceId, row)) == f.filter->trace_ids->end()) {
    return false;
  }
  if (!f.filter->route.empty()) {
    std::string_view route;
    if (!find_string_attr(t.col(kSpanAttrs).blob(row), t.dict(), "http.route", &route) ||
        route != f.filter->route) {
      return false;
    }
  }
  return true;
}

}  // namespace pyrometer::server::store

namespace pyrometer::server::store {

uint32_t span_classes(const Table& t, size_t row) {
  uint32_t c = 0;
  uint64_t ks = t.int_at(kSpanKindStatus, row);
  uint64_t kind = ks & 7;
  if (((ks >> 3) & 3) == 2) c |= kSpanClassError;
  std::string_view parent = t.fixed_at(kSpanParent, row);
  if (kind == 2 || kind == 5 || parent.find_first_not_of('\0') == std::string_view::npos) {
    c |= kSpanClassEntry;
  }
  ByteReader extras(t.col(kSpanExtras).blob(row));
  uint64_t n_events = 0;
  if (extras.varint(&n_events) && n_events > 0) c |= kSpanClassEvents;
  std::string_view attrs = t.col(kSpanAttrs).blob(row), v;
  if (find_string_attr(attrs, t.dict(), "db.system", &v) ||
      find_string_attr(attrs, t.dict(), "db.system.name", &v)) {
    c |= kSpanClassDb;
  }
  return c;
}

}  // namespace pyrometer::server::store
