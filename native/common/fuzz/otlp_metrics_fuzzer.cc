// libFuzzer target for otlp::decode_metrics: no input may crash or read out of
// bounds, and whatever decodes must re-encode stably (encode(decode(encode(x))) == encode(x)).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/otlp_codec.h"

namespace otlp = pyrometer::common::otlp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  otlp::MetricsRequest req;
  if (!otlp::decode_metrics(std::string_view(reinterpret_cast<const char*>(data), size), &req)
           .ok()) {
    return 0;
  }
  std::string first;
  otlp::encode_metrics(req, &first);
  otlp::MetricsRequest again;
  if (!otlp::decode_metrics(first, &again).ok()) std::abort();  // our own output must decode
  std::string second;
  otlp::encode_metrics(again, &second);
  if (first != second) std::abort();
  return 0;
}
