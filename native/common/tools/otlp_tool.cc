// Test-only command-line bridge to the C++ codecs, so pytest can check them
// against the official OpenTelemetry / protobuf Python packages (tests/unit/test_codec_interop.py).
//
//   otlp_tool encode-sample traces|metrics|logs|pprof   rich sample payload -> stdout
//   otlp_tool decode traces|metrics|logs|pprof           payload on stdin -> canonical JSON
//                                                        (pprof may be gzipped); exit 1 on error
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>
#include <string_view>

#include "common/gzip.h"
#include "common/otlp_codec.h"
#include "common/otlp_json_dump.h"
#include "common/pprof_codec.h"
#include "common/pprof_json_dump.h"
#include "common/testing/otlp_samples.h"
#include "common/testing/pprof_samples.h"

namespace {

namespace otlp = pyrometer::common::otlp;
namespace pprof = pyrometer::common::pprof;
using pyrometer::common::Status;

constexpr size_t kMaxProfileBytes = 64u << 20;

int usage() {
  std::fprintf(stderr, "usage: otlp_tool encode-sample|decode traces|metrics|logs|pprof\n");
  return 2;
}

int encode_sample(std::string_view kind) {
  std::string out;
  if (kind == "traces") {
    otlp::TracesRequest req;
    otlp::testing::fill_rich_traces(&req);
    otlp::encode_traces(req, &out);
  } else if (kind == "metrics") {
    otlp::MetricsRequest req;
    otlp::testing::fill_rich_metrics(&req);
    otlp::encode_metrics(req, &out);
  } else if (kind == "logs") {
    otlp::LogsRequest req;
    otlp::testing::fill_rich_logs(&req);
    otlp::encode_logs(req, &out);
  } else if (kind == "pprof") {
    pprof::encode_profile(pprof::testing::rich_profile(), &out);
  } else {
    return usage();
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

int decode(std::string_view kind) {
  const std::string input((std::istreambuf_iterator<char>(std::cin)),
                          std::istreambuf_iterator<char>());
  std::string json;
  Status st;
  if (kind == "traces") {
    otlp::TracesRequest req;
    st = otlp::decode_traces(input, &req);
    if (st.ok()) json = otlp::dump_json(req);
  } else if (kind == "metrics") {
    otlp::MetricsRequest req;
    st = otlp::decode_metrics(input, &req);
    if (st.ok()) json = otlp::dump_json(req);
  } else if (kind == "logs") {
    otlp::LogsRequest req;
    st = otlp::decode_logs(input, &req);
    if (st.ok()) json = otlp::dump_json(req);
  } else if (kind == "pprof") {
    std::string raw;
    std::string_view data = input;
    if (pyrometer::common::looks_gzipped(input)) {
      st = pyrometer::common::gunzip(input, kMaxProfileBytes, &raw);
      data = raw;
    }
    pprof::Profile profile;
    if (st.ok()) st = pprof::decode_profile(data, &profile);
    if (st.ok()) json = pprof::dump_json(profile);
  } else {
    return usage();
  }
  if (!st.ok()) {
    std::fprintf(stderr, "%s\n", st.to_string().c_str());
    return 1;
  }
  std::fwrite(json.data(), 1, json.size(), stdout);
  std::fputc('\n', stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) return usage();
  const std::string_view cmd = argv[1];
  if (cmd == "encode-sample") return encode_sample(argv[2]);
  if (cmd == "decode") return decode(argv[2]);
  return usage();
}
