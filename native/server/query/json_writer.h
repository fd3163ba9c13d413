// JsonWriter: a minimal streaming JSON writer for query responses (commas and
// escaping handled; no DOM), plus writers for the store's attribute rows.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/store/store.h"

namespace pyrometer::server::query {

// Not thread-safe; one per response. Misuse (a value where a key is due) is a
// programming error and produces invalid JSON rather than crashing.
class JsonWriter {
 public:
  void begin_object();
  void end_object();
  void begin_array();
  void end_array();
  void key(std::string_view k);
  void string(std::string_view s);
  void int64(int64_t v);
  void uint64(uint64_t v);
  void number(double v);  // NaN and infinities become null (JSON has neither)
  void boolean(bool v);
  void null();
  // `json` must already be valid JSON text (e.g. a stored array attribute).
  void raw(std::string_view json);

  // Lower-case hex of raw id bytes ("" for an empty id).
  void hex(std::string_view raw_bytes);

  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void separator();
  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

// Writes an AttrValue as its natural JSON value (arrays/kvlists verbatim,
// bytes as base64).
void write_attr_value(const store::AttrValue& v, JsonWriter* w);
// Writes attributes as a JSON object {key: value} (later duplicates win in
// most readers; OTLP forbids duplicates anyway).
void write_attributes(const std::vector<store::Attribute>& attrs, JsonWriter* w);

std::string to_hex(std::string_view raw_bytes);
// Parses 2*n hex digits into n raw bytes; false on bad input.
bool from_hex(std::string_view hex, size_t n, std::string* out);

}  // namespace pyrometer::server::query
