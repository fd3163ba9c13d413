// TraceId (16 bytes) and SpanId (8 bytes): W3C trace-context identifiers as
// small value types with lowercase-hex conversion and random generation.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/big_endian.h"

namespace pyrometer::common {

namespace internal {
// Writes 2*n lowercase hex digits of bytes[0..n) to out.
void bytes_to_hex(const uint8_t* bytes, size_t n, char* out);
// Parses exactly 2*n hex digits into bytes; false on any other character.
// `lower_only` rejects 'A'-'F' (W3C traceparent requires lowercase).
bool hex_to_bytes(std::string_view hex, uint8_t* bytes, size_t n, bool lower_only);
}  // namespace internal

// An id of N bytes, big-endian as on the wire (OTLP bytes, traceparent hex).
// All-zero is the invalid id: generators never return it and parsers of
// traceparent reject it, but the type can hold it (it is the default value,
// meaning "no id", e.g. a root span's parent).
template <size_t N>
class Id {
 public:
  static constexpr size_t kSize = N;
  static constexpr size_t kHexSize = 2 * N;

  constexpr Id() = default;
  explicit constexpr Id(const std::array<uint8_t, N>& bytes) : bytes_(bytes) {}

  // From N raw bytes (an OTLP `bytes` field). nullopt if the length differs.
  static std::optional<Id> from_bytes(std::string_view raw) {
    if (raw.size() != N) return std::nullopt;
    Id id;
    for (size_t i = 0; i < N; ++i) id.bytes_[i] = static_cast<uint8_t>(raw[i]);
    return id;
  }

  // From exactly 2N hex digits, either case (OTLP/JSON ids, query parameters).
  // nullopt on a wrong length or a non-hex character. Zero ids are accepted
  // here; check is_valid() where the caller needs a real id.
  static std::optional<Id> from_hex(std::string_view hex) {
    Id id;
    if (!internal::hex_to_bytes(hex, id.bytes_.data(), N, /*lower_only=*/false)) {
      return std::nullopt;
    }
    return id;
  }

  // Lowercase hex, 2N characters.
  std::string to_hex() const {
    std::string s(kHexSize, '0');
    internal::bytes_to_hex(bytes_.data(), N, s.data());
    return s;
  }
  // Writes 2N lowercase hex digits to out (no terminator). For allocation-free
  // header formatting.
  void write_hex(char* out) const { internal::bytes_to_hex(bytes_.data(), N, out); }

  bool is_valid() const {
    for (uint8_t b : bytes_) {
      if (b != 0) return true;
    }
    return false;
  }
  const std::array<uint8_t, N>& bytes() const { return bytes_; }
  std::array<uint8_t, N>& mutable_bytes() { return bytes_; }
  // The raw bytes as a view (valid while this Id lives), for OTLP models.
  std::string_view as_string_view() const {
    return {reinterpret_cast<const char*>(bytes_.data()), N};
  }

  // Big-endian 64-bit word `i` (0 = most significant); for sampling decisions
  // that look at the low bits of a trace id.
  uint64_t word(size_t i) const { return load_be64(bytes_.data() + i * 8); }

  friend bool operator==(const Id& a, const Id& b) = default;
  friend auto operator<=>(const Id& a, const Id& b) = default;

 private:
  std::array<uint8_t, N> bytes_{};
};

// 128-bit W3C trace id.
class TraceId : public Id<16> {
 public:
  using Id<16>::Id;
  TraceId(const Id<16>& id) : Id<16>(id) {}  // NOLINT: implicit from the base
  // A fresh, valid (non-zero) random id from this thread's generator. All 128
  // bits are random, so it also satisfies W3C level 2's "random" trace-id flag.
  static TraceId random();
  static std::optional<TraceId> from_bytes(std::string_view raw) {
    auto id = Id<16>::from_bytes(raw);
    return id ? std::optional<TraceId>(*id) : std::nullopt;
  }
  static std::optional<TraceId> from_hex(std::string_view hex) {
    auto id = Id<16>::from_hex(hex);
    return id ? std::optional<TraceId>(*id) : std::nullopt;
  }
};

// 64-bit W3C span id (a.k.a. parent-id in traceparent).
class SpanId : public Id<8> {
 public:
  using Id<8>::Id;
  SpanId(const Id<8>& id) : Id<8>(id) {}  // NOLINT: implicit from the base
  // A fresh, valid (non-zero) random id from this thread's generator.
  static SpanId random();
  static std::optional<SpanId> from_bytes(std::string_view raw) {
    auto id = Id<8>::from_bytes(raw);
    return id ? std::optional<SpanId>(*id) : std::nullopt;
  }
  static std::optional<SpanId> from_hex(std::string_view hex) {
    auto id = Id<8>::from_hex(hex);
    return id ? std::optional<SpanId>(*id) : std::nullopt;
  }
  uint64_t value() const { return word(0); }
  static SpanId from_value(uint64_t v);
};

}  // namespace pyrometer::common
