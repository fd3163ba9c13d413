// Span table: the column schema of spans and conversions between OTLP spans,
// table rows and SpanRow. Used by the head and by blocks alike.
#pragma once

#include <cstdint>

#include "common/otlp_model.h"
#include "server/store/store.h"
#include "server/store/table.h"

namespace pyrometer::server::store {

enum SpanCol : int {
  kSpanTraceId = 0,  // fixed 16
  kSpanSpanId,       // fixed 8
  kSpanParent,       // fixed 8, zeros = root
  kSpanStart,        // ns, delta
  kSpanEnd,          // ns, stored as duration (end - start)
  kSpanService,      // dict
  kSpanName,         // dict
  kSpanKindStatus,   // kind | status_code << 3
  kSpanStatusMessage,
  kSpanTraceState,
  kSpanFlags,
  kSpanResource,  // dict attr set
  kSpanScopeName,
  kSpanScopeVersion,
  kSpanAttrs,
  kSpanExtras,
  kSpanColumnCount
};

const TableSchema& span_schema();

// Per-resource/scope values interned once per ResourceSpans/ScopeSpans.
struct SpanContextIds {
  uint32_t service = 0, resource = 0, scope_name = 0, scope_version = 0;
};
SpanContextIds intern_span_context(Table* t, const common::otlp::Resource& res,
                                   const common::otlp::InstrumentationScope& scope);
void append_span(Table* t, const common::otlp::Span& span, const SpanContextIds& ids);
// The row recorded once when a trace passes the span limit: name
// "pyrometer.truncated", attribute pyrometer.truncated=true, no parent.
void append_truncation_marker(Table* t, std::string_view trace_id, uint64_t time_unix_nano,
                              uint32_t service_id, uint32_t resource_id);
inline constexpr char kTruncatedAttr[] = "pyrometer.truncated";

// `skip_fields` (SpanField bits): parts left empty, whose columns `t` need not hold.
Status materialize_span(const Table& t, size_t row, SpanRow* out, uint32_t skip_fields = 0);

// A filter resolved against one table's dictionary.
struct ResolvedSpanFilter {
  bool impossible = false;  // a wanted string is not in the dictionary
  const SpanFilter* filter = nullptr;
  bool by_service = false, by_name = false;
  uint32_t service = 0, name = 0;
};
ResolvedSpanFilter resolve_span_filter(const Table& t, const SpanFilter& f);
// SpanClass bits of a row. Needs a table with a full (not lazy) dictionary.
uint32_t span_classes(const Table& t, size_t row);
bool span_matches(const Table& t, size_t row, const ResolvedSpanFilter& f);

// Value of resource attribute service.name ("" when absent).
std::string_view service_name_of(const common::otlp::Resource& res);

}  // namespace pyrometer::server::store
