// Internal to the OTLP JSON decoder (otlp_json.cc, otlp_json_metrics.cc):
// the field-path tracker, typed field readers and the Decoder class.
#pragma once

#include <rapidjson/document.h>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/otlp_model.h"

namespace pyrometer::server::ingest::json_internal {

namespace otlp = common::otlp;
using Value = rapidjson::Value;

// Internal only: converted to Status at the public entry points.
struct JsonError {
  std::string message;
};

// The field path of the value being decoded, for error messages.
class Path {
 public:
  void push(const char* name, int index = -1) { parts_.push_back({name, index}); }
  void pop() { parts_.pop_back(); }
  [[noreturn]] void fail(const std::string& what) const {
    std::string p;
    for (const auto& part : parts_) {
      if (!p.empty()) p += '.';
      p += part.name;
      if (part.index >= 0) p += "[" + std::to_string(part.index) + "]";
    }
    throw JsonError{(p.empty() ? std::string("body") : p) + ": " + what};
  }

 private:
  struct Part {
    const char* name;
    int index;
  };
  std::vector<Part> parts_;
};

struct Scope {
  Scope(Path& p, const char* name, int index = -1) : path(p) { path.push(name, index); }
  ~Scope() { path.pop(); }
  Path& path;
};

// "traceId" and "trace_id" both normalise to "traceid".
inline std::string_view normalize(const Value& key, char* buf, size_t cap) {
  size_t n = 0;
  const char* s = key.GetString();
  for (size_t i = 0; i < key.GetStringLength() && n < cap; ++i) {
    char c = s[i];
    if (c == '_') continue;
    buf[n++] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return {buf, n};
}

// Calls fn(normalised_key, value) for each member of object `v`; null
// members are skipped (proto3 JSON: null means default).
template <typename Fn>
void for_members(const Value& v, Path& path, Fn&& fn) {
  if (!v.IsObject()) path.fail("expected an object");
  char buf[64];
  for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
    if (it->value.IsNull()) continue;
    fn(normalize(it->name, buf, sizeof(buf)), it->value);
  }
}

template <typename T, typename Fn>
void for_array(const Value& v, Path& path, const char* name, std::vector<T>* out, Fn&& fn) {
  if (!v.IsArray()) {
    Scope s(path, name);
    path.fail("expected an array");
  }
  out->reserve(out->size() + v.Size());
  int i = 0;
  for (const Value& e : v.GetArray()) {
    Scope item(path, name, i++);
    fn(e, &out->emplace_back());
  }
}

inline std::string_view str(const Value& v, Path& path, const char* name) {
  if (!v.IsString()) {
    Scope s(path, name);
    path.fail("expected a string");
  }
  return {v.GetString(), v.GetStringLength()};
}

// 64-bit integers: JSON number or decimal string.
template <typename Int>
Int integer(const Value& v, Path& path, const char* name) {
  Scope s(path, name);
  if constexpr (std::is_signed_v<Int>) {
    if (v.IsInt64()) {
      int64_t x = v.GetInt64();
      if (x < std::numeric_limits<Int>::min() || x > std::numeric_limits<Int>::max()) {
        path.fail("integer out of range");
      }
      return static_cast<Int>(x);
    }
  } else {
    if (v.IsUint64()) {
      uint64_t x = v.GetUint64();
      if (x > std::numeric_limits<Int>::max()) path.fail("integer out of range");
      return static_cast<Int>(x);
    }
  }
  if (v.IsDouble()) {
    double d = v.GetDouble();
    if (std::floor(d) == d && d >= static_cast<double>(std::numeric_limits<Int>::min()) &&
        d <= static_cast<double>(std::numeric_limits<Int>::max())) {
      return static_cast<Int>(d);
    }
    path.fail("expected an integer");
  }
  if (v.IsString() && v.GetStringLength() > 0 && v.GetStringLength() < 24) {
    std::string text(v.GetString(), v.GetStringLength());
    errno = 0;
    char* end = nullptr;
    if constexpr (std::is_signed_v<Int>) {
      long long x = std::strtoll(text.c_str(), &end, 10);
      if (errno == 0 && *end == '\0' && x >= std::numeric_limits<Int>::min() &&
          x <= std::numeric_limits<Int>::max()) {
        return static_cast<Int>(x);
      }
    } else {
      if (text[0] != '-') {
        unsigned long long x = std::strtoull(text.c_str(), &end, 10);
        if (errno == 0 && *end == '\0' && x <= std::numeric_limits<Int>::max()) {
          return static_cast<Int>(x);
        }
      }
    }
  }
  path.fail("expected an integer (number or decimal string)");
}

inline double number(const Value& v, Path& path, const char* name) {
  if (v.IsNumber()) return v.GetDouble();
  if (v.IsString()) {
    std::string_view s(v.GetString(), v.GetStringLength());
    if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
    if (s == "Infinity") return std::numeric_limits<double>::infinity();
    if (s == "-Infinity") return -std::numeric_limits<double>::infinity();
    std::string text(s);
    char* end = nullptr;
    double d = std::strtod(text.c_str(), &end);
    if (!text.empty() && *end == '\0') return d;
  }
  Scope sc(path, name);
  path.fail("expected a number");
}

inline bool boolean(const Value& v, Path& path, const char* name) {
  if (!v.IsBool()) {
    Scope s(path, name);
    path.fail("expected true or false");
  }
  return v.GetBool();
}

// Enums: an integer, or the enum value's name (matched after `prefix`).
int enumeration(const Value& v, Path& path, const char* name, const char* prefix,
                const std::vector<const char*>& names);
// 0..15 for a hex digit, -1 otherwise.
int hex_digit(char c);
// Standard or URL-safe base64, padding optional; false on a bad character.
bool base64_decode(std::string_view in, std::string* out);

class Decoder {
 public:
  explicit Decoder(otlp::Arena* arena) : arena_(arena) {}

  // Trace (16) or span (8) id: hex per the OTLP JSON mapping; base64 of the
  // right length is accepted because early exporters sent it.
  std::string_view id(const Value& v, const char* name, size_t bytes) {
    std::string_view s = str(v, path_, name);
    if (s.empty()) return {};
    std::string raw;
    if (s.size() == 2 * bytes) {
      raw.resize(bytes);
      bool ok = true;
      for (size_t i = 0; i < bytes && ok; ++i) {
        int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);
        ok = hi >= 0 && lo >= 0;
        raw[i] = static_cast<char>(hi * 16 + lo);
      }
      if (ok) return arena_->store(std::move(raw));
    }
    if (base64_decode(s, &raw) && raw.size() == bytes) return arena_->store(std::move(raw));
    Scope sc(path_, name);
    path_.fail("expected " + std::to_string(2 * bytes) + " hex digits, got \"" +
               std::string(s.substr(0, 64)) + "\"");
  }

  void any_value(const Value& v, otlp::AnyValue* out) {
    for_members(v, path_, [&](std::string_view k, const Value& f) {
      if (k == "stringvalue") {
        out->type = otlp::AnyValue::Type::kString;
        out->string_value = str(f, path_, "stringValue");
      } else if (k == "boolvalue") {
        out->type = otlp::AnyValue::Type::kBool;
        out->bool_value = boolean(f, path_, "boolValue");
      } else if (k == "intvalue") {
        out->type = otlp::AnyValue::Type::kInt;
        out->int_value = integer<int64_t>(f, path_, "intValue");
      } else if (k == "doublevalue") {
        out->type = otlp::AnyValue::Type::kDouble;
        out->double_value = number(f, path_, "doubleValue");
      } else if (k == "bytesvalue") {
        out->type = otlp::AnyValue::Type::kBytes;
        std::string raw;
        if (!base64_decode(str(f, path_, "bytesValue"), &raw)) {
          Scope sc(path_, "bytesValue");
          path_.fail("invalid base64");
        }
        out->string_value = arena_->store(std::move(raw));
      } else if (k == "arrayvalue") {
        out->type = otlp::AnyValue::Type::kArray;
        Scope sc(path_, "arrayValue");
        for_members(f, path_, [&](std::string_view k2, const Value& vals) {
          if (k2 == "values") {
            for_array(vals, path_, "values", &out->array_value,
                      [&](const Value& e, otlp::AnyValue* a) { any_value(e, a); });
          }
        });
      } else if (k == "kvlistvalue") {
        out->type = otlp::AnyValue::Type::kKvList;
        Scope sc(path_, "kvlistValue");
        for_members(f, path_, [&](std::string_view k2, const Value& vals) {
          if (k2 == "values") attributes(vals, "values", &out->kvlist_value);
        });
      }
    });
  }

  void attributes(const Value& v, const char* name, std::vector<otlp::KeyValue>* out) {
    for_array(v, path_, name, out, [&](const Value& e, otlp::KeyValue* kv) {
      for_members(e, path_, [&](std::string_view k, const Value& f) {
        if (k == "key") {
          kv->key = str(f, path_, "key");
        } else if (k == "value") {
          Scope sc(path_, "value");
          any_value(f, &kv->value);
        }
      });
    });
  }

  void resource(const Value& v, otlp::Resource* out) {
    Scope sc(path_, "resource");
    for_members(v, path_, [&](std::string_view k, const Value& f) {
      if (k == "attributes") {
        attributes(f, "attributes", &out->attributes);
      } else if (k == "droppedattributescount") {
        out->dropped_attributes_count = integer<uint32_t>(f, path_, "droppedAttributesCount");
      }
    });
  }

  void scope(const Value& v, otlp::InstrumentationScope* out) {
    Scope sc(path_, "scope");
    for_members(v, path_, [&](std::string_view k, const Value& f) {
      if (k == "name") {
        out->name = str(f, path_, "name");
      } else if (k == "version") {
        out->version = str(f, path_, "version");
      } else if (k == "attributes") {
        attributes(f, "attributes", &out->attributes);
      } else if (k == "droppedattributescount") {
        out->dropped_attributes_count = integer<uint32_t>(f, path_, "droppedAttributesCount");
      }
    });
  }

  void span(const Value& v, otlp::Span* out);
  void metric(const Value& v, otlp::Metric* out);
  void log_record(const Value& v, otlp::LogRecord* out);
  void exemplars(const Value& v, std::vector<otlp::Exemplar>* out);
  void number_point(const Value& v, otlp::NumberDataPoint* out);
  void histogram_point(const Value& v, otlp::HistogramDataPoint* out);
  void exp_histogram_point(const Value& v, otlp::ExponentialHistogramDataPoint* out);

  // resource* → scope* → item* nesting shared by the three signals.
  template <typename RS, typename SS, typename Item, typename ItemFn>
  void signal(const Value& root, const char* resource_key, const char* resource_name,
              const char* scope_key, const char* scope_name, const char* item_key,
              const char* item_name, std::vector<RS>* out, std::vector<SS> RS::*scopes,
              std::vector<Item> SS::*items, ItemFn&& item_fn) {
    for_members(root, path_, [&](std::string_view k, const Value& f) {
      if (k != resource_key) return;
      for_array(f, path_, resource_name, out, [&](const Value& rv, RS* rs) {
        for_members(rv, path_, [&](std::string_view k2, const Value& f2) {
          if (k2 == "resource") {
            resource(f2, &rs->resource);
          } else if (k2 == "schemaurl") {
            rs->schema_url = str(f2, path_, "schemaUrl");
          } else if (k2 == scope_key) {
            for_array(f2, path_, scope_name, &(rs->*scopes), [&](const Value& sv, SS* ss) {
              for_members(sv, path_, [&](std::string_view k3, const Value& f3) {
                if (k3 == "scope") {
                  scope(f3, &ss->scope);
                } else if (k3 == "schemaurl") {
                  ss->schema_url = str(f3, path_, "schemaUrl");
                } else if (k3 == item_key) {
                  for_array(f3, path_, item_name, &(ss->*items), item_fn);
                }
              });
            });
          }
        });
      });
    });
  }

  Path& path() { return path_; }

 private:
  otlp::Arena* arena_;
  Path path_;
};

}  // namespace pyrometer::server::ingest::json_internal
