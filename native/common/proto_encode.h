// Protobuf encoding helpers on protozero shared by the OTLP and pprof encoders:
// proto3 default omission and submessages that keep their presence when empty.
#pragma once

#include <cstdint>
#include <protozero/pbf_writer.hpp>
#include <string>
#include <string_view>

namespace pyrometer::common::proto {

// Writer bound to the output string, so a helper can tell whether a
// submessage came out empty (protozero drops empty submessages, which would
// lose elements of repeated fields and empty arrays).
struct Writer {
  std::string* buf;
};

// Writes a submessage field `tag` whose body `fill(pbf_writer&)` produces;
// when `keep_empty` and the body is empty, writes an explicit zero-length field.
template <typename Fn>
void write_message(protozero::pbf_writer& parent, const Writer& w, uint32_t tag, bool keep_empty,
                   Fn&& fill) {
  const size_t before = w.buf->size();
  {
    protozero::pbf_writer sub(parent, tag);
    fill(sub);
  }
  if (keep_empty && w.buf->size() == before) parent.add_bytes(tag, "", 0);
}

// proto3 omits fields at their default value; these keep the encoders short.
inline void put_string(protozero::pbf_writer& m, uint32_t tag, std::string_view v) {
  if (!v.empty()) m.add_bytes(tag, v.data(), v.size());
}
inline void put_fixed64(protozero::pbf_writer& m, uint32_t tag, uint64_t v) {
  if (v != 0) m.add_fixed64(tag, v);
}
inline void put_fixed32(protozero::pbf_writer& m, uint32_t tag, uint32_t v) {
  if (v != 0) m.add_fixed32(tag, v);
}
inline void put_uint32(protozero::pbf_writer& m, uint32_t tag, uint32_t v) {
  if (v != 0) m.add_uint32(tag, v);
}
inline void put_enum(protozero::pbf_writer& m, uint32_t tag, int32_t v) {
  if (v != 0) m.add_enum(tag, v);
}

}  // namespace pyrometer::common::proto
