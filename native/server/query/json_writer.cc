// JsonWriter: streaming JSON with correct escaping, and the attribute-row
// writers shared by the query endpoints.
#include "server/query/json_writer.h"

#include <cmath>
#include <cstdio>

namespace pyrometer::server::query {

void JsonWriter::separator() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.empty()) {
    if (!first_.back()) out_.push_back(',');
    first_.back() = false;
  }
}

void JsonWriter::begin_object() {
  separator();
  out_.push_back('{');
  first_.push_back(true);
}

void JsonWriter::end_object() {
  out_.push_back('}');
  if (!first_.empty()) first_.pop_back();
}

void JsonWriter::begin_array() {
  separator();
  out_.push_back('[');
  first_.push_back(true);
}

void JsonWriter::end_array() {
  out_.push_back(']');
  if (!first_.empty()) first_.pop_back();
}

void JsonWriter::key(std::string_view k) {
  string(k);
  out_.push_back(':');
  after_key_ = true;
}

void JsonWriter::string(std::string_view s) {
  separator();
  static constexpr char kHex[] = "0123456789abcdef";
  out_.push_back('"');
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out_ += "\\\"";
        break;
      case '\\':
        out_ += "\\\\";
        break;
      case '\n':
        out_ += "\\n";
        break;
      case '\r':
        out_ += "\\r";
        break;
      case '\t':
        out_ += "\\t";
        break;
      default:
        if (c < 0x20) {
          out_ += "\\u00";
          out_.push_back(kHex[c >> 4]);
          out_.push_back(kHex[c & 15]);
        } else {
          out_.push_back(ch);
        }
    }
  }
  out_.push_back('"');
}

void JsonWriter::int64(int64_t v) {
  separator();
  out_ += std::to_string(v);
}

void JsonWriter::uint64(uint64_t v) {
  separator();
  out_ += std::to_string(v);
}

void JsonWriter::number(double v) {
  separator();
  if (!std::isfinite(v)) {
    out_ += "null";
    return;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  out_ += buf;
}

void JsonWriter::boolean(bool v) {
  separator();
  out_ += v ? "true" : "false";
}

void JsonWriter::null() {
  separator();
  out_ += "null";
}

void JsonWriter::raw(std::string_view json) {
  separator();
  out_.append(json.empty() ? std::string_view("null") : json);
}

void JsonWriter::hex(std::string_view raw_bytes) { string(to_hex(raw_bytes)); }

std::string to_hex(std::string_view raw_bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(raw_bytes.size() * 2);
  for (char ch : raw_bytes) {
    unsigned char c = static_cast<unsigned char>(ch);
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

bool from_hex(std::string_view hex, size_t n, std::string* out) {
  if (hex.size() != 2 * n) return false;
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  out->assign(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    int hi = digit(hex[2 * i]), lo = digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*out)[i] = static_cast<char>(hi * 16 + lo);
  }
  return true;
}

namespace {

std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8) |
                 static_cast<uint8_t>(in[i + 2]);
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(kAlphabet[(n >> 6) & 63]);
    out.push_back(kAlphabet[n & 63]);
  }
  if (i < in.size()) {
    uint32_t n = static_cast<uint8_t>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<uint8_t>(in[i + 1]) << 8;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

}  // namespace

void write_attr_value(const store::AttrValue& v, JsonWriter* w) {
  using Type = store::AttrValue::Type;
  switch (v.type) {
    case Type::kString:
      w->string(v.str);
      break;
    case Type::kBool:
      w->boolean(v.i != 0);
      break;
    case Type::kInt:
      w->int64(v.i);
      break;
    case Type::kDouble:
      w->number(v.d);
      break;
    case Type::kArray:
    case Type::kKvList:
      w->raw(v.str);
      break;
    case Type::kBytes:
      w->string(base64(v.str));
      break;
    default:
      w->null();
  }
}

void write_attributes(const std::vector<store::Attribute>& attrs, JsonWriter* w) {
  w->begin_object();
  for (const auto& a : attrs) {
    w->key(a.key);
    write_attr_value(a.value, w);
  }
  w->end_object();
}

}  // namespace pyrometer::server::query
