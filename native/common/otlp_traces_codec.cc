// Wire codec for ExportTraceServiceRequest (collector/trace/v1, trace/v1):
// resource spans, scope spans, spans with events, links and status.
#include <protozero/pbf_writer.hpp>

#include "common/otlp_codec.h"
#include "common/otlp_common_codec.h"
#include "common/otlp_envelope.h"

namespace pyrometer::common::otlp {

using protozero::pbf_reader;
using protozero::pbf_writer;

namespace {

constexpr size_t kTraceIdSize = 16;
constexpr size_t kSpanIdSize = 8;

void decode_event(pbf_reader r, proto::DecodePath& p, SpanEvent* out) {
  while (proto::next_field(r, p)) {
    switch (r.tag()) {
      case 1:
        out->time_unix_nano = proto::read_fixed64(r, p, "time_unix_nano");
        break;
      case 2:
        out->name = proto::read_bytes(r, p, "name");
        break;
      case 3:
        detail::decode_attribute(r, p, "attributes", &out->attributes);
        break;
      case 4:
        out->dropped_attributes_count = proto::read_uint32(r, p, "dropped_attributes_count");
        break;
      default:
        r.skip();
    }
  }
}

void decode_link(pbf_reader r, proto::DecodePath& p, SpanLink* out) {
  while (proto::next_field(r, p)) {
    switch (r.tag()) {
      case 1:
        out->trace_id = proto::read_bytes(r, p, "trace_id");
        break;
      case 2:
        out->span_id = proto::read_bytes(r, p, "span_id");
        break;
      case 3:
        out->trace_state = proto::read_bytes(r, p, "trace_state");
        break;
      case 4:
        detail::decode_attribute(r, p, "attributes", &out->attributes);
        break;
      case 5:
        out->dropped_attributes_count = proto::read_uint32(r, p, "dropped_attributes_count");
        break;
      case 6:
        out->flags = proto::read_fixed32(r, p, "flags");
        break;
      default:
        r.skip();
    }
  }
  proto::check_id_length(out->trace_id, kTraceIdSize, p, "trace_id");
  proto::check_id_length(out->span_id, kSpanIdSize, p, "span_id");
}

void decode_status(pbf_reader r, proto::DecodePath& p, Span* out) {
  while (proto::next_field(r, p)) {
    switch (r.tag()) {
      case 2:
        out->status_message = proto::read_bytes(r, p, "message");
        break;
      case 3: {
        // Enums are open in proto3; a code we do not know reads as unset.
        const int32_t code = proto::read_enum(r, p, "code");
        out->status_code =
            (code >= 0 && code <= 2) ? static_cast<StatusCode>(code) : StatusCode::kUnset;
        break;
      }
      default:
        r.skip();
    }
  }
}

void decode_span(pbf_reader r, proto::DecodePath& p, Span* out) {
  out->attributes.reserve(proto::count_field(r, 9));
  while (proto::next_field(r, p)) {
    switch (r.tag()) {
      case 1:
        out->trace_id = proto::read_bytes(r, p, "trace_id");
        break;
      case 2:
        out->span_id = proto::read_bytes(r, p, "span_id");
        break;
      case 3:
        out->trace_state = proto::read_bytes(r, p, "trace_state");
        break;
      case 4:
        out->parent_span_id = proto::read_bytes(r, p, "parent_span_id");
        break;
      case 5:
        out->name = proto::read_bytes(r, p, "name");
        break;
      case 6: {
        const int32_t kind = proto::read_enum(r, p, "kind");
        out->kind = (kind >= 0 && kind <= 5) ? static_cast<SpanKind>(kind) : SpanKind::kUnspecified;
        break;
      }
      case 7:
        out->start_time_unix_nano = proto::read_fixed64(r, p, "start_time_unix_nano");
        break;
      case 8:
        out->end_time_unix_nano = proto::read_fixed64(r, p, "end_time_unix_nano");
        break;
      case 9:
        detail::decode_attribute(r, p, "attributes", &out->attributes);
        break;
      case 10:
        out->dropped_attributes_count = proto::read_uint32(r, p, "dropped_attributes_count");
        break;
      case 11:
        detail::decode_repeated(r, p, "events", &out->events, decode_event);
        break;
      case 12:
        out->dropped_events_count = proto::read_uint32(r, p, "dropped_events_count");
        break;
      case 13:
        detail::decode_repeated(r, p, "links", &out->links, decode_link);
        break;
      case 14:
        out->dropped_links_count = proto::read_uint32(r, p, "dropped_links_count");
        break;
      case 15:
        detail::decode_singular(r, p, "status", out, decode_status);
        break;
      case 16:
        out->flags = proto::read_fixed32(r, p, "flags");
        break;
      default:
        r.skip();
    }
  }
  proto::check_id_length(out->trace_id, kTraceIdSize, p, "trace_id");
  proto::check_id_length(out->span_id, kSpanIdSize, p, "span_id");
  proto::check_id_length(out->parent_span_id, kSpanIdSize, p, "parent_span_id");
}

void encode_span(pbf_writer& m, const detail::Writer& w, const Span& s) {
  detail::put_string(m, 1, s.trace_id);
  detail::put_string(m, 2, s.span_id);
  detail::put_string(m, 3, s.trace_state);
  detail::put_string(m, 4, s.parent_span_id);
  detail::put_string(m, 5, s.name);
  detail::put_enum(m, 6, static_cast<int32_t>(s.kind));
  detail::put_fixed64(m, 7, s.start_time_unix_nano);
  detail::put_fixed64(m, 8, s.end_time_unix_nano);
  detail::encode_key_values(m, w, 9, s.attributes);
  detail::put_uint32(m, 10, s.dropped_attributes_count);
  for (const SpanEvent& e : s.events) {
    detail::write_message(m, w, 11, /*keep_empty=*/true, [&](pbf_writer& em) {
      detail::put_fixed64(em, 1, e.time_unix_nano);
      detail::put_string(em, 2, e.name);
      detail::encode_key_values(em, w, 3, e.attributes);
      detail::put_uint32(em, 4, e.dropped_attributes_count);
    });
  }
  detail::put_uint32(m, 12, s.dropped_events_count);
  for (const SpanLink& l : s.links) {
    detail::write_message(m, w, 13, /*keep_empty=*/true, [&](pbf_writer& lm) {
      detail::put_string(lm, 1, l.trace_id);
      detail::put_string(lm, 2, l.span_id);
      detail::put_string(lm, 3, l.trace_state);
      detail::encode_key_values(lm, w, 4, l.attributes);
      detail::put_uint32(lm, 5, l.dropped_attributes_count);
      detail::put_fixed32(lm, 6, l.flags);
    });
  }
  detail::put_uint32(m, 14, s.dropped_links_count);
  detail::write_message(m, w, 15, /*keep_empty=*/false, [&](pbf_writer& sm) {
    detail::put_string(sm, 2, s.status_message);
    detail::put_enum(sm, 3, static_cast<int32_t>(s.status_code));
  });
  detail::put_fixed32(m, 16, s.flags);
}

constexpr detail::Envelope<TracesRequest, ResourceSpans, ScopeSpans, Span> kEnvelope{
    "ExportTraceServiceRequest",
    &TracesRequest::resource_spans,
    "resource_spans",
    &ResourceSpans::scope_spans,
    "scope_spans",
    &ScopeSpans::spans,
    "spans"};

}  // namespace

Status decode_traces(std::string_view data, TracesRequest* out) {
  return detail::decode_envelope(data, kEnvelope, decode_span, out);
}

void encode_traces(const TracesRequest& req, std::string* out) {
  detail::encode_envelope(req, kEnvelope, encode_span, out);
}

}  // namespace pyrometer::common::otlp
