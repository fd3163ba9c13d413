// Wire codec for Export{Trace,Metrics,Logs}ServiceResponse: all three share one
// shape, partial_success (1) { rejected count int64 (1), error_message (2) }.
#include <protozero/pbf_writer.hpp>

#include "common/otlp_codec.h"
#include "common/otlp_common_codec.h"

namespace pyrometer::common::otlp {

using protozero::pbf_reader;
using protozero::pbf_writer;

namespace {

void decode_partial_success(pbf_reader r, proto::DecodePath& p, PartialSuccess* out) {
  while (proto::next_field(r, p)) {
    switch (r.tag()) {
      case 1:
        out->rejected = proto::read_int64(r, p, "rejected");
        break;
      case 2: {
        const std::string_view msg = proto::read_bytes(r, p, "error_message");
        out->error_message.assign(msg.data(), msg.size());
        break;
      }
      default:
        r.skip();
    }
  }
}

}  // namespace

void encode_export_response(const PartialSuccess& partial, std::string* out) {
  const detail::Writer w{out};
  pbf_writer root(*out);
  // An all-default partial_success means full success: protozero drops the
  // empty submessage, leaving the empty response the spec asks for.
  detail::write_message(root, w, 1, /*keep_empty=*/false, [&](pbf_writer& m) {
    if (partial.rejected != 0) m.add_int64(1, partial.rejected);
    detail::put_string(m, 2, partial.error_message);
  });
}

Status decode_export_response(std::string_view data, PartialSuccess* out) {
  return proto::decode_status(
      data, "ExportServiceResponse", kMaxNesting, [&](pbf_reader& r, proto::DecodePath& p) {
        while (proto::next_field(r, p)) {
          if (r.tag() == 1) {
            detail::decode_singular(r, p, "partial_success", out, decode_partial_success);
          } else {
            r.skip();
          }
        }
      });
}

}  // namespace pyrometer::common::otlp
