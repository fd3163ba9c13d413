// libFuzzer target for the OTLP JSON decoders (traces, metrics, logs): no input
// may crash, hang or read out of bounds, and whatever decodes must encode to
// protobuf that our protobuf decoder accepts (that is what the WAL stores).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/otlp_codec.h"
#include "server/ingest/otlp_json.h"

namespace otlp = pyrometer::common::otlp;
namespace ingest = pyrometer::server::ingest;

namespace {

template <typename Request, typename DecodeJson, typename Encode, typename DecodePb>
void check(const std::string& json, DecodeJson decode_json, Encode encode, DecodePb decode_pb) {
  Request req;
  if (!decode_json(json, &req).ok()) return;
  std::string pb;
  encode(req, &pb);
  Request again;
  if (!decode_pb(pb, &again).ok()) std::abort();  // the WAL must be able to replay it
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string json(reinterpret_cast<const char*>(data), size);
  check<otlp::TracesRequest>(json, ingest::decode_traces_json, otlp::encode_traces,
                             otlp::decode_traces);
  check<otlp::MetricsRequest>(json, ingest::decode_metrics_json, otlp::encode_metrics,
                              otlp::decode_metrics);
  check<otlp::LogsRequest>(json, ingest::decode_logs_json, otlp::encode_logs, otlp::decode_logs);
  return 0;
}
