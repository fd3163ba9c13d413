// Wire codec for OTLP common.proto / resource.proto messages (see otlp_common_codec.h).
// Field numbers: docs/format/otlp-subset.md.
#include "common/otlp_common_codec.h"

#include <cstring>

namespace pyrometer::common::otlp::detail {

using protozero::pbf_reader;
using protozero::pbf_writer;

namespace {

// protobuf oneof: the last member seen wins, so drop what an earlier one left.
void reset_any_value(AnyValue* v, AnyValue::Type type) {
  if (v->type == type) return;
  v->type = type;
  if (!v->array_value.empty()) v->array_value.clear();
  if (!v->kvlist_value.empty()) v->kvlist_value.clear();
}

void decode_array_value(pbf_reader r, proto::DecodePath& p, AnyValue* out) {
  while (proto::next_field(r, p)) {
    if (r.tag() == 1) {
      decode_repeated(r, p, "values", &out->array_value, decode_any_value);
    } else {
      r.skip();
    }
  }
}

void decode_kvlist_value(pbf_reader r, proto::DecodePath& p, AnyValue* out) {
  while (proto::next_field(r, p)) {
    if (r.tag() == 1) {
      decode_repeated(r, p, "values", &out->kvlist_value, decode_key_value);
    } else {
      r.skip();
    }
  }
}

}  // namespace

void decode_any_value(pbf_reader r, proto::DecodePath& p, AnyValue* out) {
  while (proto::next_field(r, p)) {
    switch (r.tag()) {
      case 1:
        out->string_value = proto::read_bytes(r, p, "string_value");
        reset_any_value(out, AnyValue::Type::kString);
        break;
      case 2:
        out->bool_value = proto::read_bool(r, p, "bool_value");
        reset_any_value(out, AnyValue::Type::kBool);
        break;
      case 3:
        out->int_value = proto::read_int64(r, p, "int_value");
        reset_any_value(out, AnyValue::Type::kInt);
        break;
      case 4:
        out->double_value = proto::read_double(r, p, "double_value");
        reset_any_value(out, AnyValue::Type::kDouble);
        break;
      case 5:
        reset_any_value(out, AnyValue::Type::kArray);
        decode_singular(r, p, "array_value", out, decode_array_value);
        break;
      case 6:
        reset_any_value(out, AnyValue::Type::kKvList);
        decode_singular(r, p, "kvlist_value", out, decode_kvlist_value);
        break;
      case 7:
        out->string_value = proto::read_bytes(r, p, "bytes_value");
        reset_any_value(out, AnyValue::Type::kBytes);
        break;
      default:
        r.skip();
    }
  }
}

void decode_key_value(pbf_reader r, proto::DecodePath& p, KeyValue* out) {
  while (proto::next_field(r, p)) {
    switch (r.tag()) {
      case 1:
        out->key = proto::read_bytes(r, p, "key");
        break;
      case 2:
        decode_singular(r, p, "value", &out->value, decode_any_value);
        break;
      default:
        r.skip();
    }
  }
}

void decode_resource(pbf_reader r, proto::DecodePath& p, Resource* out) {
  while (proto::next_field(r, p)) {
    switch (r.tag()) {
      case 1:
        decode_attribute(r, p, "attributes", &out->attributes);
        break;
      case 2:
        out->dropped_attributes_count = proto::read_uint32(r, p, "dropped_attributes_count");
        break;
      default:
        r.skip();
    }
  }
}

void decode_scope(pbf_reader r, proto::DecodePath& p, InstrumentationScope* out) {
  while (proto::next_field(r, p)) {
    switch (r.tag()) {
      case 1:
        out->name = proto::read_bytes(r, p, "name");
        break;
      case 2:
        out->version = proto::read_bytes(r, p, "version");
        break;
      case 3:
        decode_attribute(r, p, "attributes", &out->attributes);
        break;
      case 4:
        out->dropped_attributes_count = proto::read_uint32(r, p, "dropped_attributes_count");
        break;
      default:
        r.skip();
    }
  }
}

void encode_any_value_body(pbf_writer& m, const Writer& w, const AnyValue& v) {
  // A oneof member is written even at its default value: its presence is the type.
  switch (v.type) {
    case AnyValue::Type::kEmpty:
      break;
    case AnyValue::Type::kString:
      m.add_bytes(1, v.string_value.data(), v.string_value.size());
      break;
    case AnyValue::Type::kBool:
      m.add_bool(2, v.bool_value);
      break;
    case AnyValue::Type::kInt:
      m.add_int64(3, v.int_value);
      break;
    case AnyValue::Type::kDouble:
      m.add_double(4, v.double_value);
      break;
    case AnyValue::Type::kArray:
      write_message(m, w, 5, /*keep_empty=*/true, [&](pbf_writer& arr) {
        for (const AnyValue& e : v.array_value) {
          write_message(arr, w, 1, /*keep_empty=*/true,
                        [&](pbf_writer& ev) { encode_any_value_body(ev, w, e); });
        }
      });
      break;
    case AnyValue::Type::kKvList:
      write_message(m, w, 6, /*keep_empty=*/true,
                    [&](pbf_writer& kvl) { encode_key_values(kvl, w, 1, v.kvlist_value); });
      break;
    case AnyValue::Type::kBytes:
      m.add_bytes(7, v.string_value.data(), v.string_value.size());
      break;
  }
}

namespace {

// Appends `v` as a protobuf varint at `p`; returns the end.
char* put_varint(char* p, uint64_t v) { return p + protozero::add_varint_to_buffer(p, v); }

// A KeyValue whose value is a scalar (string, bytes, bool, int, double),
// written with its lengths computed up front and its bytes stored straight
// into the output buffer: the same bytes as the nested writers produce,
// without protozero reserving five length bytes per submessage and then
// moving the body back over the unused ones (twice per attribute), and
// without assembling the field elsewhere first (an exporter encodes a dozen
// of these per request span; they were most of its encoding time). Writing
// to w.buf directly is what the caller's writer would do: that writer is the
// innermost open one. False, writing nothing, for any other value.
bool encode_scalar_key_value(const Writer& w, uint32_t tag, const KeyValue& kv) {
  // The AnyValue body: one field, its key byte (field << 3 | wire type) first.
  char body[16];  // everything but a string's bytes
  char* b = body;
  std::string_view text;
  switch (kv.value.type) {
    case AnyValue::Type::kString:
    case AnyValue::Type::kBytes:
      text = kv.value.string_value;
      *b++ = kv.value.type == AnyValue::Type::kString ? 0x0A : 0x3A;  // fields 1 / 7, LEN
      b = put_varint(b, text.size());
      break;
    case AnyValue::Type::kBool:
      *b++ = 0x10;  // field 2, VARINT
      *b++ = kv.value.bool_value ? 1 : 0;
      break;
    case AnyValue::Type::kInt:
      *b++ = 0x18;  // field 3, VARINT (int64: two's complement, 10 bytes if negative)
      b = put_varint(b, static_cast<uint64_t>(kv.value.int_value));
      break;
    case AnyValue::Type::kDouble: {
      *b++ = 0x21;  // field 4, I64, little-endian
      uint64_t bits;
      std::memcpy(&bits, &kv.value.double_value, 8);
      for (int i = 0; i < 8; ++i) *b++ = static_cast<char>(bits >> (8 * i));
      break;
    }
    default:
      return false;
  }
  const size_t head_size = static_cast<size_t>(b - body);
  const size_t body_size = head_size + text.size();
  // KeyValue: key (field 1, omitted when empty as proto3 does), value (field 2).
  const std::string_view key = kv.key;
  const size_t key_field =
      key.empty() ? 0
                  : 1 + static_cast<size_t>(protozero::length_of_varint(key.size())) + key.size();
  const size_t kv_size =
      key_field + 1 + static_cast<size_t>(protozero::length_of_varint(body_size)) + body_size;
  const uint64_t field_key = (static_cast<uint64_t>(tag) << 3) | 2;  // LEN
  const size_t total = static_cast<size_t>(protozero::length_of_varint(field_key)) +
                       static_cast<size_t>(protozero::length_of_varint(kv_size)) + kv_size;
  std::string& out = *w.buf;
  const size_t at = out.size();
  out.resize(at + total);
  char* o = out.data() + at;
  o = put_varint(o, field_key);
  o = put_varint(o, kv_size);
  if (!key.empty()) {
    *o++ = 0x0A;
    o = put_varint(o, key.size());
    std::memcpy(o, key.data(), key.size());
    o += key.size();
  }
  *o++ = 0x12;
  o = put_varint(o, body_size);
  std::memcpy(o, body, head_size);
  o += head_size;
  if (!text.empty()) std::memcpy(o, text.data(), text.size());
  return true;
}

}  // namespace

void encode_key_values(pbf_writer& parent, const Writer& w, uint32_t tag,
                       const std::vector<KeyValue>& kvs) {
  for (const KeyValue& kv : kvs) {
    if (encode_scalar_key_value(w, tag, kv)) continue;
    write_message(parent, w, tag, /*keep_empty=*/true, [&](pbf_writer& m) {
      put_string(m, 1, kv.key);
      if (kv.value.type != AnyValue::Type::kEmpty) {
        write_message(m, w, 2, /*keep_empty=*/false,
                      [&](pbf_writer& vm) { encode_any_value_body(vm, w, kv.value); });
      }
    });
  }
}

void encode_resource(pbf_writer& parent, const Writer& w, uint32_t tag, const Resource& r) {
  write_message(parent, w, tag, /*keep_empty=*/false, [&](pbf_writer& m) {
    encode_key_values(m, w, 1, r.attributes);
    put_uint32(m, 2, r.dropped_attributes_count);
  });
}

void encode_scope(pbf_writer& parent, const Writer& w, uint32_t tag,
                  const InstrumentationScope& s) {
  write_message(parent, w, tag, /*keep_empty=*/false, [&](pbf_writer& m) {
    put_string(m, 1, s.name);
    put_string(m, 2, s.version);
    encode_key_values(m, w, 3, s.attributes);
    put_uint32(m, 4, s.dropped_attributes_count);
  });
}

}  // namespace pyrometer::common::otlp::detail
