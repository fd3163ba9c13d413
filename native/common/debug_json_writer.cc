// Minimal deterministic JSON writer for debug dumps (see debug_json_writer.h).
#include "common/debug_json_writer.h"

#include <cmath>
#include <cstdio>

namespace pyrometer::common {

void DebugJsonWriter::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (need_comma_) out_->push_back(',');
}

void DebugJsonWriter::open(char c) {
  before_value();
  out_->push_back(c);
  need_comma_ = false;
}

void DebugJsonWriter::close(char c) {
  out_->push_back(c);
  need_comma_ = true;
}

void DebugJsonWriter::key(std::string_view name) {
  if (need_comma_) out_->push_back(',');
  out_->push_back('"');
  out_->append(name);
  out_->append("\":");
  after_key_ = true;
  need_comma_ = false;
}

void DebugJsonWriter::value_string(std::string_view s) {
  before_value();
  out_->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out_->append("\\\"");
        break;
      case '\\':
        out_->append("\\\\");
        break;
      case '\n':
        out_->append("\\n");
        break;
      case '\t':
        out_->append("\\t");
        break;
      case '\r':
        out_->append("\\r");
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out_->append(buf);
        } else {
          out_->push_back(static_cast<char>(c));
        }
    }
  }
  out_->push_back('"');
  need_comma_ = true;
}

void DebugJsonWriter::value_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  before_value();
  out_->push_back('"');
  for (unsigned char c : bytes) {
    out_->push_back(kDigits[c >> 4]);
    out_->push_back(kDigits[c & 15]);
  }
  out_->push_back('"');
  need_comma_ = true;
}

void DebugJsonWriter::value_uint(uint64_t v) {
  before_value();
  out_->append(std::to_string(v));
  need_comma_ = true;
}

void DebugJsonWriter::value_int(int64_t v) {
  before_value();
  out_->append(std::to_string(v));
  need_comma_ = true;
}

void DebugJsonWriter::value_double(double v) {
  before_value();
  if (std::isnan(v)) {
    out_->append("\"NaN\"");
  } else if (std::isinf(v)) {
    out_->append(v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
  } else {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.17g", v);
    out_->append(buf);
  }
  need_comma_ = true;
}

void DebugJsonWriter::value_bool(bool v) {
  before_value();
  out_->append(v ? "true" : "false");
  need_comma_ = true;
}

}  // namespace pyrometer::common
