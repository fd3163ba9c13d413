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

// Re-encodes one value of the given kind from `from`'s ids to `to`'s ids.
// Returns false on malformed input.
bool remap_attrs(std::string_view in, const Dictionary& from, Dictionary* to, std::string* out);
bool remap_any(std::string_view in, const Dictionary& from, Dictionary* to, std::string* out);
bool remap_extras(std::string_view in, const Dictionary& from, Dictionary* to, std::string* out);

AttrValue to_attr_value(const otlp::AnyValue& v);
// JSON text of an OTLP array/kvlist (arrays → [..], kvlists → {..}).
std::string any_to_json(const otlp::AnyValue& v);

// Looks up a string attribute in an encoded list without decoding the rest.
bool find_string_attr(std::string_view encoded, const Dictionary& dict, std::string_view key,
                      std::string_view* value);

}  // namespace pyrometer::server::store
