// Row codec: the compact encodings of attribute lists, AnyValues and span
// events/links used inside table columns (strings become dictionary ids),
// and their conversion to and from OTLP model values and owned rows.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/otlp_model.h"
#include "server/store/column_codec.h"
#include "server/store/store.h"

namespace pyrometer::server::store {

namespace otlp = common::otlp;

// Attribute list: count varint, then per attribute key-id varint, type u8,
// value (string-like: dict id varint; bool/int: zigzag varint; double: 8 bytes).
void encode_otlp_attrs(const std::vector<otlp::KeyValue>& kvs, Dictionary* dict, std::string* out);
void encode_attrs(const std::vector<Attribute>& attrs, Dictionary* dict, std::string* out);
bool decode_attrs(ByteReader* r, const Dictionary& dict, std::vector<Attribute>* out);

// One value: type u8 then the value as in an attribute list.
void encode_otlp_any(const otlp::AnyValue& v, Dictionary* dict, std::string* out);
void encode_any(const AttrValue& v, Dictionary* dict, std::string* out);
bool decode_any(ByteReader* r, const Dictionary& dict, AttrValue* out);

// Span extras: events (time varint, name id, attrs) then links (trace id,
// span id as length-prefixed bytes, trace-state id, attrs), each list count-prefixed.
void encode_otlp_extras(const otlp::Span& span, Dictionary* dict, std::string* out);
void encode_extras(const SpanRow& row, Dictionary* dict, std::string* out);
bool decode_extras(ByteReader* r, const Dictionary& dict, SpanRow* row);

// Maps ids of dictionary `from` to ids of `to`, interning each source string
// at most once: copying rows between tables (head cut, compaction) meets the
// same few strings millions of times, and a vector lookup is far cheaper than
// hashing the string again. Both dictionaries must outlive it; `to` may gain
// strings meanwhile, `from` must not change. Not thread-safe.
class DictRemap {
 public:
  DictRemap(const Dictionary& from, Dictionary* to) : from_(from), to_(to) {}
  const Dictionary& from() const { return from_; }
  // Precondition: from_id < from().size().
  uint32_t id(uint32_t from_id) {
    if (from_id >= ids_.size()) ids_.resize(from_.size(), 0);
    uint32_t& slot = ids_[from_id];
    if (slot == 0) slot = to_->intern(from_.at(from_id)) + 1;
    return slot - 1;
  }

 private:
  const Dictionary& from_;
  Dictionary* to_;
  std::vector<uint32_t> ids_;  // to-id + 1; 0 = not yet interned
};

// Re-encodes one value of the given kind from `from`'s ids to `to`'s ids.
// Returns false on malformed input.
bool remap_attrs(std::string_view in, const Dictionary& from, Dictionary* to, std::string* out);
bool remap_any(std::string_view in, const Dictionary& from, Dictionary* to, std::string* out);
bool remap_extras(std::string_view in, const Dictionary& from, Dictionary* to, std::string* out);
// The same through a remap that remembers ids across calls.
bool remap_attrs(std::string_view in, DictRemap* remap, std::string* out);
bool remap_any(std::string_view in, DictRemap* remap, std::string* out);
bool remap_extras(std::string_view in, DictRemap* remap, std::string* out);

AttrValue to_attr_value(const otlp::AnyValue& v);
// JSON text of an OTLP array/kvlist (arrays → [..], kvlists → {..}).
std::string any_to_json(const otlp::AnyValue& v);

// Looks up a string attribute in an encoded list without decoding the rest.
bool find_string_attr(std::string_view encoded, const Dictionary& dict, std::string_view key,
                      std::string_view* value);

}  // namespace pyrometer::server::store
