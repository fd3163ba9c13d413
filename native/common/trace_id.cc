// TraceId/SpanId: hex conversion and non-zero random generation from the
// per-thread generator.
#include "common/trace_id.h"

#include "common/random.h"

namespace pyrometer::common {

namespace internal {

void bytes_to_hex(const uint8_t* bytes, size_t n, char* out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 0xf];
  }
}

namespace {
// -1 for a non-hex character.
inline int hex_value(char c, bool lower_only) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (!lower_only && c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

bool hex_to_bytes(std::string_view hex, uint8_t* bytes, size_t n, bool lower_only) {
  if (hex.size() != 2 * n) return false;
  for (size_t i = 0; i < n; ++i) {
    int hi = hex_value(hex[2 * i], lower_only);
    int lo = hex_value(hex[2 * i + 1], lower_only);
    if (hi < 0 || lo < 0) return false;
    bytes[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

}  // namespace internal

namespace {
void store_be(uint64_t v, uint8_t* out) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<uint8_t>(v);
    v >>= 8;
  }
}
}  // namespace

TraceId TraceId::random() {
  uint64_t hi, lo;
  do {  // all-zero is invalid; the chance is 2^-128 but the contract is absolute
    hi = random_u64();
    lo = random_u64();
  } while ((hi | lo) == 0);
  TraceId id;
  store_be(hi, id.mutable_bytes().data());
  store_be(lo, id.mutable_bytes().data() + 8);
  return id;
}

SpanId SpanId::random() {
  uint64_t v;
  do {
    v = random_u64();
  } while (v == 0);
  return from_value(v);
}

SpanId SpanId::from_value(uint64_t v) {
  SpanId id;
  store_be(v, id.mutable_bytes().data());
  return id;
}

}  // namespace pyrometer::common
