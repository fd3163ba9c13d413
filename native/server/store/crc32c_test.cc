// CRC32C: known vectors, and the hardware and table paths agree on every
// length and alignment (the WAL and blocks written by one must verify with the other).
#include "server/store/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace pyrometer::server::store {
namespace {

TEST(Crc32c, KnownVectors) {
  // RFC 3720 (iSCSI) B.4 and the classic check value.
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(crc32c(std::string(32, '\xff')), 0x62A8AB43u);
  EXPECT_EQ(crc32c(""), 0u);
}

TEST(Crc32c, HardwareAndPortableAgree) {
  std::mt19937_64 rng(7);
  std::string buf(4096 + 16, '\0');
  for (char& c : buf) c = static_cast<char>(rng());
  for (size_t off = 0; off < 9; ++off) {
    for (size_t n : {0u, 1u, 7u, 8u, 9u, 63u, 64u, 65u, 1000u, 4096u}) {
      const char* p = buf.data() + off;
      EXPECT_EQ(crc32c_extend(0, p, n), crc32c_extend_portable(0, p, n)) << off << " " << n;
      // Extending in two pieces equals one pass.
      uint32_t a = crc32c_extend(crc32c_extend(0, p, n / 3), p + n / 3, n - n / 3);
      EXPECT_EQ(a, crc32c_extend_portable(0, p, n)) << off << " " << n;
    }
  }
}

}  // namespace
}  // namespace pyrometer::server::store
