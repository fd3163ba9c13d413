// Request-body decoding for Content-Encoding gzip/deflate on zlib, streaming
// into a capped buffer so the decompressed size is bounded, not trusted.
#include "server/http/content_encoding.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>

namespace pyrometer::server::http {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!out.empty() && out.back() == ' ') out.pop_back();
  while (!out.empty() && out.front() == ' ') out.erase(out.begin());
  return out;
}

// window_bits: 15+32 auto-detects gzip or zlib headers; -15 is raw deflate.
common::Status inflate_capped(std::string_view in, int window_bits, size_t max_out,
                              std::string* out) {
  z_stream zs{};
  if (inflateInit2(&zs, window_bits) != Z_OK) return common::Status::internal("inflateInit2");
  out->clear();
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  char chunk[64 * 1024];
  int rc = Z_OK;
  common::Status status;
  while (true) {
    zs.next_out = reinterpret_cast<Bytef*>(chunk);
    zs.avail_out = sizeof(chunk);
    rc = inflate(&zs, Z_NO_FLUSH);
    size_t produced = sizeof(chunk) - zs.avail_out;
    if (out->size() + produced > max_out) {
      status = common::Status::too_large("decompressed body exceeds " + std::to_string(max_out) +
                                         " bytes");
      break;
    }
    out->append(chunk, produced);
    if (rc == Z_STREAM_END) {
      // Concatenated gzip members are legal (RFC 1952 §2.2): keep going.
      if (zs.avail_in > 0 && window_bits > 0) {
        if (inflateReset(&zs) != Z_OK) {
          status = common::Status::invalid_argument("corrupt gzip body");
          break;
        }
        continue;
      }
      break;
    }
    if (rc == Z_OK) continue;
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) {
      status = common::Status::invalid_argument("truncated gzip body");
      break;
    }
    status = common::Status::invalid_argument(std::string("corrupt gzip body: ") +
                                              (zs.msg != nullptr ? zs.msg : "inflate error"));
    break;
  }
  inflateEnd(&zs);
  return status;
}

}  // namespace

common::Status decode_content(std::string_view encoding, std::string&& body, size_t max_out,
                              std::string* out, bool* unsupported_encoding) {
  *unsupported_encoding = false;
  std::string enc = lower(encoding);
  if (enc.empty() || enc == "identity") {
    *out = std::move(body);
    return {};
  }
  if (enc == "gzip" || enc == "x-gzip") return inflate_capped(body, 15 + 32, max_out, out);
  if (enc == "deflate") {
    // "deflate" means zlib-wrapped, but some clients send raw deflate.
    common::Status st = inflate_capped(body, 15, max_out, out);
    if (st.code() == common::Status::Code::kInvalidArgument) {
      st = inflate_capped(body, -15, max_out, out);
    }
    return st;
  }
  *unsupported_encoding = true;
  return common::Status::invalid_argument("unsupported content-encoding: " + enc);
}

}  // namespace pyrometer::server::http
