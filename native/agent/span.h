// Span editing rules shared by every way of touching a live span: attribute
// upsert with OTel's default limits, events, and the insight/error markers.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "agent/span_record.h"

namespace pyrometer::agent {

// OTel SDK defaults (OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT, OTEL_SPAN_EVENT_COUNT_LIMIT).
inline constexpr size_t kMaxAttributesPerSpan = 128;
inline constexpr size_t kMaxEventsPerSpan = 128;

// The attribute or event name that marks a span as carrying an insight (a
// finding of a detector or of user code); its local trace is then always kept.
inline constexpr std::string_view kInsightKey = "pyrometer.insight";
// Set on a kept local root: why the trace was kept (sampled|error|insight|slow).
inline constexpr std::string_view kKeepReasonKey = "pyrometer.keep_reason";

// Sets `key` to `value`, replacing an existing value (last write wins, as in
// OTel). Returns false, changing nothing, when the key is new and the span
// already has kMaxAttributesPerSpan attributes (the caller counts the drop).
// A literal key is kept as a StaticKey (viewed, never copied); any other key
// goes through upsert_copied_attribute, copied when it is inserted.
bool upsert_attribute(std::vector<Attribute>& attrs, StaticKey key, AttrValue&& value);
bool upsert_copied_attribute(std::vector<Attribute>& attrs, std::string_view key,
                             AttrValue&& value);

// Appends an event; false when kMaxEventsPerSpan is reached (caller counts).
bool append_event(std::vector<EventRecord>& events, EventRecord&& event);

// Writes span.pending_keep_reason (if any) as the kKeepReasonKey attribute
// and clears it. Cheap when there is none.
void apply_pending_keep_reason(SpanRecord& span);

// True when the span carries an attribute or an event named kInsightKey.
bool has_insight(const SpanRecord& span);

}  // namespace pyrometer::agent
