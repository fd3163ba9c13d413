// Span editing rules shared by every way of touching a live span: attribute
// upsert with OTel's default limits, events, and the insight/error markers.
#include "agent/span.h"

#include <utility>

namespace pyrometer::agent {

bool upsert_attribute(std::vector<Attribute>& attrs, std::string_view key, AttrValue&& value) {
  for (Attribute& a : attrs) {
    if (a.key == key) {
      a.value = std::move(value);
      return true;
    }
  }
  if (attrs.size() >= kMaxAttributesPerSpan) return false;
  Attribute& a = attrs.emplace_back();  // in place: no temporary to move and destroy
  a.key.assign(key.data(), key.size());
  a.value = std::move(value);
  return true;
}

bool append_event(std::vector<EventRecord>& events, EventRecord&& event) {
  if (events.size() >= kMaxEventsPerSpan) return false;
  events.push_back(std::move(event));
  return true;
}

void apply_pending_keep_reason(SpanRecord& span) {
  if (span.pending_keep_reason.empty()) return;
  upsert_attribute(span.attributes, kKeepReasonKey,
                   AttrValue(std::string(span.pending_keep_reason)));
  span.pending_keep_reason = {};
}

bool has_insight(const SpanRecord& span) {
  for (const Attribute& a : span.attributes) {
    if (a.key == kInsightKey) return true;
  }
  for (const EventRecord& e : span.events) {
    if (e.name == kInsightKey) return true;
  }
  return false;
}

}  // namespace pyrometer::agent
