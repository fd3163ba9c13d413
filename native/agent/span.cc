// Span editing rules shared by every way of touching a live span: attribute
// upsert with OTel's default limits, events, and the insight/error markers.
#include "agent/span.h"

#include <utility>

namespace pyrometer::agent {

namespace {

// Finds `text` or appends a slot for it (keyed by make_key()); nullptr when full.
template <typename MakeKey>
AttrValue* find_or_add(std::vector<Attribute>& attrs, std::string_view text, MakeKey make_key) {
  for (Attribute& a : attrs) {
    if (a.key == text) return &a.value;
  }
  if (attrs.size() >= kMaxAttributesPerSpan) return nullptr;
  Attribute& a = attrs.emplace_back();  // in place: no temporary to move and destroy
  a.key = make_key();
  return &a.value;
}

}  // namespace

bool upsert_attribute(std::vector<Attribute>& attrs, StaticKey key, AttrValue&& value) {
  AttrValue* slot = find_or_add(attrs, key.text, [&] { return AttrKey(key); });
  if (slot != nullptr) *slot = std::move(value);
  return slot != nullptr;
}

bool upsert_copied_attribute(std::vector<Attribute>& attrs, std::string_view key,
                             AttrValue&& value) {
  AttrValue* slot = find_or_add(attrs, key, [&] { return AttrKey(key); });
  if (slot != nullptr) *slot = std::move(value);
  return slot != nullptr;
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
