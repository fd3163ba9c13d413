// Span editing rules shared by every way of touching a live span: attribute
// upsert with OTel's default limits, events, and the insight/error markers.
#include "agent/span.h"

#include <utility>

namespace pyrometer::agent {

namespace {

// upsert_attribute's rule, the key made by make_key() only when inserted.
template <typename MakeKey>
bool upsert(std::vector<Attribute>& attrs, std::string_view text, MakeKey make_key,
            AttrValue&& value) {
  for (Attribute& a : attrs) {
    if (a.key == text) {
      a.value = std::move(value);
      return true;
    }
  }
  if (attrs.size() >= kMaxAttributesPerSpan) return false;
  Attribute& a = attrs.emplace_back();  // in place: no temporary to move and destroy
  a.key = make_key();
  a.value = std::move(value);
  return true;
}

}  // namespace

bool upsert_attribute(std::vector<Attribute>& attrs, StaticKey key, AttrValue&& value) {
  return upsert(
      attrs, key.text, [&] { return AttrKey(key); }, std::move(value));
}

bool upsert_copied_attribute(std::vector<Attribute>& attrs, std::string_view key,
                             AttrValue&& value) {
  return upsert(
      attrs, key, [&] { return AttrKey(key); }, std::move(value));
}

bool append_event(std::vector<EventRecord>& events, EventRecord&& event) {
  if (events.size() >= kMaxEventsPerSpan) return false;
  events.push_back(std::move(event));
  return true;
}

void apply_pending_keep_reason(SpanRecord& span) {
  if (span.pending_keep_reason.empty()) return;
  upsert_copied_attribute(span.attributes, kKeepReasonKey,
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
