// Row codec implementation. Decoders are bounds-checked (ByteReader) because
// block bytes are untrusted until their CRC matched, and defensive after.
#include "server/store/row_codec.h"

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "common/otlp_codec.h"

namespace pyrometer::server::store {
namespace {

using VT = AttrValue::Type;

bool is_stringish(uint8_t t) {
  return t == static_cast<uint8_t>(VT::kString) || t == static_cast<uint8_t>(VT::kBytes) ||
         t == static_cast<uint8_t>(VT::kArray) || t == static_cast<uint8_t>(VT::kKvList);
}

void json_string(std::string_view s, std::string* out) {
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char b[8];
          std::snprintf(b, sizeof b, "\\u%04x", c);
          *out += b;
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

void json_any(const otlp::AnyValue& v, std::string* out, int depth) {
  using T = otlp::AnyValue::Type;
  if (depth > otlp::kMaxNesting) {
    *out += "null";
    return;
  }
  switch (v.type) {
    case T::kString:
      json_string(v.string_value, out);
      break;
    case T::kBytes:
      json_string(v.string_value, out);
      break;
    case T::kBool:
      *out += v.bool_value ? "true" : "false";
      break;
    case T::kInt:
      *out += std::to_string(v.int_value);
      break;
    case T::kDouble: {
      if (!std::isfinite(v.double_value)) {
        *out += "null";
      } else {
        char b[32];
        std::snprintf(b, sizeof b, "%.17g", v.double_value);
        *out += b;
      }
      break;
    }
    case T::kArray:
      out->push_back('[');
      for (size_t i = 0; i < v.array_value.size(); ++i) {
        if (i) out->push_back(',');
        json_any(v.array_value[i], out, depth + 1);
      }
      out->push_back(']');
      break;
    case T::kKvList:
      out->push_back('{');
      for (size_t i = 0; i < v.kvlist_value.size(); ++i) {
        if (i) out->push_back(',');
        json_string(v.kvlist_value[i].key, out);
        out->push_back(':');
        json_any(v.kvlist_value[i].value, out, depth + 1);
      }
      out->push_back('}');
      break;
    default:
      *out += "null";
  }
}

void put_value(uint8_t type, std::string_view str, int64_t i, double d, Dictionary* dict,
               std::string* out) {
  out->push_back(static_cast<char>(type));
  if (is_stringish(type)) {
    put_varint(out, dict->intern(str));
  } else if (type == static_cast<uint8_t>(VT::kBool) || type == static_cast<uint8_t>(VT::kInt)) {
    put_varint(out, zigzag(i));
  } else if (type == static_cast<uint8_t>(VT::kDouble)) {
    put_double(out, d);
  }
}

// Reads one value; with `to` set, re-encodes it into `out` under `to`'s ids.
bool read_value(ByteReader* r, const Dictionary& dict, AttrValue* v, DictRemap* to,
                std::string* out) {
  std::string_view t;
  if (!r->raw(1, &t)) return false;
  uint8_t type = static_cast<uint8_t>(t[0]);
  if (type > static_cast<uint8_t>(VT::kBytes)) return false;
  std::string_view str;
  int64_t i = 0;
  double d = 0;
  uint64_t id = 0;
  if (is_stringish(type)) {
    if (!r->varint(&id) || id >= dict.size()) return false;
    if (v) str = dict.at(static_cast<uint32_t>(id));
  } else if (type == static_cast<uint8_t>(VT::kBool) || type == static_cast<uint8_t>(VT::kInt)) {
    uint64_t z;
    if (!r->varint(&z)) return false;
    i = unzigzag(z);
  } else if (type == static_cast<uint8_t>(VT::kDouble)) {
    if (!r->dbl(&d)) return false;
  }
  if (v) {
    v->type = static_cast<VT>(type);
    v->str.assign(str);
    v->i = i;
    v->d = d;
  }
  if (to) {
    if (is_stringish(type)) {
      out->push_back(static_cast<char>(type));
      put_varint(out, to->id(static_cast<uint32_t>(id)));
    } else {
      put_value(type, str, i, d, nullptr, out);
    }
  }
  return true;
}

bool read_attrs(ByteReader* r, const Dictionary& dict, std::vector<Attribute>* attrs, DictRemap* to,
                std::string* out) {
  uint64_t n;
  if (!r->varint(&n)) return false;
  if (to) put_varint(out, n);
  for (uint64_t k = 0; k < n; ++k) {
    uint64_t key;
    if (!r->varint(&key) || key >= dict.size()) return false;
    if (to) put_varint(out, to->id(static_cast<uint32_t>(key)));
    Attribute* a = nullptr;
    if (attrs) {
      attrs->emplace_back();
      a = &attrs->back();
      a->key.assign(dict.at(static_cast<uint32_t>(key)));
    }
    if (!read_value(r, dict, a ? &a->value : nullptr, to, out)) return false;
  }
  return true;
}

bool read_extras(ByteReader* r, const Dictionary& dict, SpanRow* row, DictRemap* to,
                 std::string* out) {
  uint64_t n;
  if (!r->varint(&n)) return false;
  if (to) put_varint(out, n);
  for (uint64_t k = 0; k < n; ++k) {
    uint64_t time, name;
    if (!r->varint(&time) || !r->varint(&name) || name >= dict.size()) return false;
    SpanEventRow* ev = nullptr;
    if (row) {
      row->events.emplace_back();
      ev = &row->events.back();
      ev->time_unix_nano = time;
      ev->name.assign(dict.at(static_cast<uint32_t>(name)));
    }
    if (to) {
      put_varint(out, time);
      put_varint(out, to->id(static_cast<uint32_t>(name)));
    }
    if (!read_attrs(r, dict, ev ? &ev->attributes : nullptr, to, out)) return false;
  }
  if (!r->varint(&n)) return false;
  if (to) put_varint(out, n);
  for (uint64_t k = 0; k < n; ++k) {
    std::string_view tid, sid;
    uint64_t ts;
    if (!r->bytes(&tid) || !r->bytes(&sid) || !r->varint(&ts) || ts >= dict.size()) return false;
    SpanLinkRow* link = nullptr;
    if (row) {
      row->links.emplace_back();
      link = &row->links.back();
      link->trace_id.assign(tid);
      link->span_id.assign(sid);
      link->trace_state.assign(dict.at(static_cast<uint32_t>(ts)));
    }
    if (to) {
      put_bytes(out, tid);
      put_bytes(out, sid);
      put_varint(out, to->id(static_cast<uint32_t>(ts)));
    }
    if (!read_attrs(r, dict, link ? &link->attributes : nullptr, to, out)) return false;
  }
  return true;
}

}  // namespace

std::string any_to_json(const otlp::AnyValue& v) {
  std::string out;
  json_any(v, &out, 0);
  return out;
}

AttrValue to_attr_value(const otlp::AnyValue& v) {
  using T = otlp::AnyValue::Type;
  AttrValue a;
  a.type = static_cast<VT>(v.type);
  switch (v.type) {
    case T::kString:
    case T::kBytes:
      a.str.assign(v.string_value);
      break;
    case T::kBool:
      a.i = v.bool_value ? 1 : 0;
      break;
    case T::kInt:
      a.i = v.int_value;
      break;
    case T::kDouble:
      a.d = v.double_value;
      break;
    case T::kArray:
    case T::kKvList:
      a.str = any_to_json(v);
      break;
    default:
      break;
  }
  return a;
}

void encode_otlp_any(const otlp::AnyValue& v, Dictionary* dict, std::string* out) {
  using T = otlp::AnyValue::Type;
  uint8_t type = static_cast<uint8_t>(v.type);
  switch (v.type) {
    case T::kArray:
    case T::kKvList:
      put_value(type, any_to_json(v), 0, 0, dict, out);
      break;
    case T::kBool:
      put_value(type, {}, v.bool_value ? 1 : 0, 0, dict, out);
      break;
    default:
      put_value(type, v.string_value, v.int_value, v.double_value, dict, out);
  }
}

void encode_any(const AttrValue& v, Dictionary* dict, std::string* out) {
  put_value(static_cast<uint8_t>(v.type), v.str, v.i, v.d, dict, out);
}

bool decode_any(ByteReader* r, const Dictionary& dict, AttrValue* out) {
  return read_value(r, dict, out, nullptr, nullptr);
}

void encode_otlp_attrs(const std::vector<otlp::KeyValue>& kvs, Dictionary* dict, std::string* out) {
  put_varint(out, kvs.size());
  for (const auto& kv : kvs) {
    put_varint(out, dict->intern(kv.key));
    encode_otlp_any(kv.value, dict, out);
  }
}

void encode_attrs(const std::vector<Attribute>& attrs, Dictionary* dict, std::string* out) {
  put_varint(out, attrs.size());
  for (const auto& a : attrs) {
    put_varint(out, dict->intern(a.key));
    encode_any(a.value, dict, out);
  }
}

bool decode_attrs(ByteReader* r, const Dictionary& dict, std::vector<Attribute>* out) {
  return read_attrs(r, dict, out, nullptr, nullptr);
}

void encode_otlp_extras(const otlp::Span& span, Dictionary* dict, std::string* out) {
  put_varint(out, span.events.size());
  for (const auto& e : span.events) {
    put_varint(out, e.time_unix_nano);
    put_varint(out, dict->intern(e.name));
    encode_otlp_attrs(e.attributes, dict, out);
  }
  put_varint(out, span.links.size());
  for (const auto& l : span.links) {
    put_bytes(out, l.trace_id);
    put_bytes(out, l.span_id);
    put_varint(out, dict->intern(l.trace_state));
    encode_otlp_attrs(l.attributes, dict, out);
  }
}

void encode_extras(const SpanRow& row, Dictionary* dict, std::string* out) {
  put_varint(out, row.events.size());
  for (const auto& e : row.events) {
    put_varint(out, e.time_unix_nano);
    put_varint(out, dict->intern(e.name));
    encode_attrs(e.attributes, dict, out);
  }
  put_varint(out, row.links.size());
  for (const auto& l : row.links) {
    put_bytes(out, l.trace_id);
    put_bytes(out, l.span_id);
    put_varint(out, dict->intern(l.trace_state));
    encode_attrs(l.attributes, dict, out);
  }
}

bool decode_extras(ByteReader* r, const Dictionary& dict, SpanRow* row) {
  return read_extras(r, dict, row, nullptr, nullptr);
}

bool remap_attrs(std::string_view in, DictRemap* remap, std::string* out) {
  ByteReader r(in);
  return read_attrs(&r, remap->from(), nullptr, remap, out) && r.done();
}

bool remap_any(std::string_view in, DictRemap* remap, std::string* out) {
  ByteReader r(in);
  return read_value(&r, remap->from(), nullptr, remap, out) && r.done();
}

bool remap_extras(std::string_view in, DictRemap* remap, std::string* out) {
  ByteReader r(in);
  return read_extras(&r, remap->from(), nullptr, remap, out) && r.done();
}

bool remap_attrs(std::string_view in, const Dictionary& from, Dictionary* to, std::string* out) {
  DictRemap remap(from, to);
  return remap_attrs(in, &remap, out);
}

bool remap_any(std::string_view in, const Dictionary& from, Dictionary* to, std::string* out) {
  DictRemap remap(from, to);
  return remap_any(in, &remap, out);
}

bool remap_extras(std::string_view in, const Dictionary& from, Dictionary* to, std::string* out) {
  DictRemap remap(from, to);
  return remap_extras(in, &remap, out);
}

bool find_string_attr(std::string_view encoded, const Dictionary& dict, std::string_view key,
                      std::string_view* value) {
  uint32_t key_id;
  if (!dict.find(key, &key_id)) return false;
  ByteReader r(encoded);
  uint64_t n;
  if (!r.varint(&n)) return false;
  for (uint64_t k = 0; k < n; ++k) {
    uint64_t kid;
    std::string_view t;
    if (!r.varint(&kid) || !r.raw(1, &t)) return false;
    uint8_t type = static_cast<uint8_t>(t[0]);
    uint64_t x;
    double d;
    if (is_stringish(type)) {
      if (!r.varint(&x)) return false;
      if (kid == key_id && type == static_cast<uint8_t>(VT::kString)) {
        *value = dict.at(static_cast<uint32_t>(x));
        return true;
      }
    } else if (type == static_cast<uint8_t>(VT::kBool) || type == static_cast<uint8_t>(VT::kInt)) {
      if (!r.varint(&x)) return false;
    } else if (type == static_cast<uint8_t>(VT::kDouble)) {
      if (!r.dbl(&d)) return false;
    }
  }
  return false;
}

}  // namespace pyrometer::server::store
