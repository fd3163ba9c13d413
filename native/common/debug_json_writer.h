// Minimal JSON writer for the canonical debug dumps of decoded messages
// (otlp_json_dump.h, pprof_json_dump.h): tests and tools compare these, not OTLP/JSON.
//
// Output is deterministic: fields in the order written, doubles with 17
// significant digits (non-finite ones as the strings "NaN", "Infinity", "-Infinity"),
// bytes as lowercase hex. Strings are escaped but not UTF-8 validated.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pyrometer::common {

class DebugJsonWriter {
 public:
  explicit DebugJsonWriter(std::string* out) : out_(out) {}

  void begin_object() { open('{'); }
  void end_object() { close('}'); }
  void begin_array() { open('['); }
  void end_array() { close(']'); }
  // Inside an object: writes `"name":` before the next value.
  void key(std::string_view name);

  void value_string(std::string_view s);
  void value_hex(std::string_view bytes);
  void value_uint(uint64_t v);
  void value_int(int64_t v);
  void value_double(double v);
  void value_bool(bool v);

  // key + value shorthands.
  void field_string(std::string_view k, std::string_view v) {
    key(k);
    value_string(v);
  }
  void field_hex(std::string_view k, std::string_view v) {
    key(k);
    value_hex(v);
  }
  void field_uint(std::string_view k, uint64_t v) {
    key(k);
    value_uint(v);
  }
  void field_int(std::string_view k, int64_t v) {
    key(k);
    value_int(v);
  }
  void field_double(std::string_view k, double v) {
    key(k);
    value_double(v);
  }
  void field_bool(std::string_view k, bool v) {
    key(k);
    value_bool(v);
  }

 private:
  void open(char c);
  void close(char c);
  void before_value();

  std::string* out_;
  bool need_comma_ = false;
  bool after_key_ = false;
};

}  // namespace pyrometer::common
