// libFuzzer target for pprof::decode_profile: no input may crash or read out of
// bounds, and whatever decodes must re-encode stably and still validate.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/pprof_codec.h"

namespace pprof = pyrometer::common::pprof;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  pprof::Profile profile;
  if (!pprof::decode_profile(std::string_view(reinterpret_cast<const char*>(data), size), &profile)
           .ok()) {
    return 0;
  }
  std::string first;
  pprof::encode_profile(profile, &first);
  pprof::Profile again;
  if (!pprof::decode_profile(first, &again).ok()) std::abort();
  std::string second;
  pprof::encode_profile(again, &second);
  if (first != second) std::abort();
  return 0;
}
