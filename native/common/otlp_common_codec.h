// Wire codec for the OTLP messages every signal shares (common.proto and
// resource.proto): AnyValue, KeyValue, Resource, InstrumentationScope.
//
// Internal to the traces/metrics/logs codecs (otlp_codec.h is the public API).
// Decoders throw proto::DecodeError / protozero::exception; the public entry
// points convert them to Status.
#pragma once

#include <cstdint>
#include <protozero/pbf_reader.hpp>
#include <protozero/pbf_writer.hpp>
#include <string>
#include <vector>

#include "common/otlp_model.h"
#include "common/proto_decode.h"
#include "common/proto_encode.h"

namespace pyrometer::common::otlp::detail {

// ---- decoding: `r` is positioned on the message body ----
void decode_any_value(protozero::pbf_reader r, proto::DecodePath& p, AnyValue* out);
void decode_key_value(protozero::pbf_reader r, proto::DecodePath& p, KeyValue* out);
void decode_resource(protozero::pbf_reader r, proto::DecodePath& p, Resource* out);
void decode_scope(protozero::pbf_reader r, proto::DecodePath& p, InstrumentationScope* out);

// Reads one element of a repeated message field into a new back element of
// *out, tracking the path (field[index]) and the nesting depth.
template <typename T, typename Fn>
void decode_repeated(protozero::pbf_reader& r, proto::DecodePath& p, const char* name,
                     std::vector<T>* out, Fn&& decode_one) {
  protozero::pbf_reader sub = proto::read_message(r, p, name);
  p.enter(name, out->size());
  decode_one(sub, p, &out->emplace_back());
  p.leave();
}

// Reads a singular message field into *out (fields merge if it repeats, as protobuf does).
template <typename T, typename Fn>
void decode_singular(protozero::pbf_reader& r, proto::DecodePath& p, const char* name, T* out,
                     Fn&& decode_one) {
  protozero::pbf_reader sub = proto::read_message(r, p, name);
  p.enter(name, proto::DecodePath::kNoIndex);
  decode_one(sub, p, out);
  p.leave();
}

inline void decode_attribute(protozero::pbf_reader& r, proto::DecodePath& p, const char* name,
                             std::vector<KeyValue>* out) {
  decode_repeated(r, p, name, out, decode_key_value);
}

// ---- encoding (helpers in proto_encode.h) ----
using proto::put_enum;
using proto::put_fixed32;
using proto::put_fixed64;
using proto::put_string;
using proto::put_uint32;
using proto::write_message;
using proto::Writer;

void encode_any_value_body(protozero::pbf_writer& m, const Writer& w, const AnyValue& v);
void encode_key_values(protozero::pbf_writer& parent, const Writer& w, uint32_t tag,
                       const std::vector<KeyValue>& kvs);
void encode_resource(protozero::pbf_writer& parent, const Writer& w, uint32_t tag,
                     const Resource& r);
void encode_scope(protozero::pbf_writer& parent, const Writer& w, uint32_t tag,
                  const InstrumentationScope& s);

}  // namespace pyrometer::common::otlp::detail
