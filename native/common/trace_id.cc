// TraceId/SpanId: hex conversion and non-zero random generation from the
// per-thread generator.
#include "common/trace_id.h"

#include <array>

#include "common/big_endian.h"
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
// Value of a hex digit: 0-15 for '0'-'9' and 'a'-'f', 16-31 for 'A'-'F'
// (value + 16, so lowercase-only callers can reject them with one test), and
// 0xff for everything else. A table: the parser runs for every request.
constexpr std::array<uint8_t, 256> make_hex_table() {
  std::array<uint8_t, 256> t{};
  for (auto& v : t) v = 0xff;
  for (int c = '0'; c <= '9'; ++c) t[c] = static_cast<uint8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) t[c] = static_cast<uint8_t>(c - 'a' + 10);
  for (int c = 'A'; c <= 'F'; ++c) t[c] = static_cast<uint8_t>(c - 'A' + 10 + 16);
  return t;
}
constexpr std::array<uint8_t, 256> kHex = make_hex_table();
}  // namespace

bool hex_to_bytes(std::string_view hex, uint8_t* bytes, size_t n, bool lower_only) {
  if (hex.size() != 2 * n) return false;
  const uint8_t reject = lower_only ? 0xf0 : 0xe0;  // bits that mark an unwanted digit
  uint8_t bad = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint8_t hi = kHex[static_cast<unsigned char>(hex[2 * i])];
    const uint8_t lo = kHex[static_cast<unsigned char>(hex[2 * i + 1])];
    bad |= (hi | lo) & reject;
    bytes[i] = static_cast<uint8_t>((hi & 0xf) << 4 | (lo & 0xf));
  }
  return bad == 0;
}

}  // namespace internal

TraceId TraceId::random() {
  uint64_t hi, lo;
  do {  // all-zero is invalid; the chance is 2^-128 but the contract is absolute
    hi = random_u64();
    lo = random_u64();
  } while ((hi | lo) == 0);
  TraceId id;
  store_be64(hi, id.mutable_bytes().data());
  store_be64(lo, id.mutable_bytes().data() + 8);
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
  store_be64(v, id.mutable_bytes().data());
  return id;
}

}  // namespace pyrometer::common
