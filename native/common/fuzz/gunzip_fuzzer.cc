// libFuzzer target for gunzip: no input may crash or exceed the output cap, and
// what decompresses must survive gzip -> gunzip unchanged.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/gzip.h"

namespace {
constexpr size_t kMaxOut = 1 << 20;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using pyrometer::common::gunzip;
  using pyrometer::common::gzip;
  std::string out;
  const auto st =
      gunzip(std::string_view(reinterpret_cast<const char*>(data), size), kMaxOut, &out);
  if (out.size() > kMaxOut) std::abort();
  if (!st.ok()) return 0;
  std::string z;
  gzip(out, &z, 1);
  std::string back;
  if (!gunzip(z, kMaxOut, &back).ok() || back != out) std::abort();
  return 0;
}
