// Request-body decoding for Content-Encoding: identity passes through, gzip
// goes through common::gunzip with the body cap, anything else is refused.
#include "server/http/content_encoding.h"

#include <cctype>

#include "common/gzip.h"

namespace pyrometer::server::http {

common::Status decode_content(std::string_view encoding, std::string&& body, size_t max_out,
                              std::string* out, bool* unsupported_encoding) {
  *unsupported_encoding = false;
  std::string enc;
  for (char c : encoding) {
    if (c != ' ' && c != '\t')
      enc.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (enc.empty() || enc == "identity") {
    *out = std::move(body);
    return {};
  }
  if (enc == "gzip" || enc == "x-gzip") {
    out->clear();
    common::Status st = common::gunzip(body, max_out, out);
    if (st.code() == common::Status::Code::kTooLarge) {
      return common::Status::too_large("decompressed body exceeds " + std::to_string(max_out) +
                                       " bytes");
    }
    if (!st.ok()) return common::Status::invalid_argument("gzip body: " + st.message());
    return st;
  }
  *unsupported_encoding = true;
  return common::Status::invalid_argument("unsupported content-encoding: " + enc +
                                          " (use gzip or identity)");
}

}  // namespace pyrometer::server::http
