// Column codec tests: integer encodings, dictionary, CRC32C known answer.
#include "server/store/column_codec.h"

#include <gtest/gtest.h>

#include "server/store/crc32c.h"

namespace pyrometer::server::store {
namespace {

TEST(ColumnCodecTest, IntEncodingsRoundTripIncludingWraparound) {
  std::vector<uint64_t> v = {0, 1, 1'700'000'000'000'000'000ull, 5, UINT64_MAX, 42, 42, 43, 44};
  for (auto enc : {IntEncoding::kVarint, IntEncoding::kDelta, IntEncoding::kDeltaOfDelta}) {
    std::string bytes;
    encode_ints(v, 0, v.size(), enc, &bytes);
    std::vector<uint64_t> back;
    ASSERT_TRUE(decode_ints(bytes, v.size(), enc, &back).ok());
    EXPECT_EQ(back, v);
    std::vector<uint64_t> short_back;
    EXPECT_FALSE(decode_ints(bytes.substr(0, bytes.size() - 1), v.size(), enc, &short_back).ok());
  }
}

TEST(ColumnCodecTest, DeltaOfDeltaMakesRegularTimestampsOneByte) {
  std::vector<uint64_t> v;
  for (int i = 0; i < 1000; ++i) v.push_back(1'700'000'000'000'000'000ull + i * 10'000'000'000ull);
  std::string bytes;
  encode_ints(v, 0, v.size(), IntEncoding::kDeltaOfDelta, &bytes);
  EXPECT_LT(bytes.size(), 1000u + 20u);
}

TEST(ColumnCodecTest, DictionaryInternsAndParses) {
  Dictionary d;
  EXPECT_EQ(d.intern(""), 0u);
  uint32_t a = d.intern("GET /users");
  EXPECT_EQ(d.intern("GET /users"), a);
  uint32_t b = d.intern("db.system");
  std::string bytes;
  d.serialize(&bytes);
  Dictionary e;
  ASSERT_TRUE(e.parse(bytes).ok());
  EXPECT_EQ(e.at(a), "GET /users");
  EXPECT_EQ(e.at(b), "db.system");
  EXPECT_EQ(e.at(999), "");
  Dictionary f;
  EXPECT_FALSE(f.parse(bytes.substr(0, bytes.size() - 2)).ok());
}

TEST(ColumnCodecTest, Crc32cKnownAnswer) {
  // RFC 3720 B.4: CRC32C of "123456789" is 0xE3069283.
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
  std::string zeros(32, '\0');
  EXPECT_EQ(crc32c(zeros), 0x8A9136AAu);
  EXPECT_EQ(crc32c_extend(crc32c("1234"), "56789", 5), 0xE3069283u);
}

}  // namespace
}  // namespace pyrometer::server::store
