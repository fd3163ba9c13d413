// Checked protobuf field readers on protozero, shared by the OTLP and pprof decoders:
// wire-type checks, packed-or-unpacked repeated scalars, and a field path for error messages.
//
// protozero checks lengths and varints (it throws protozero::exception) but only
// asserts wire types in debug builds, and get_bool() reads one byte unchecked, so
// every read goes through these helpers. Errors are thrown as DecodeError inside a
// decoder and turned into a Status at its public entry point (decode_status()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <limits>
#include <protozero/pbf_reader.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace pyrometer::common::proto {

// Thrown only inside decoders; never escapes a public API.
class DecodeError : public std::exception {
 public:
  explicit DecodeError(std::string msg) : msg_(std::move(msg)) {}
  const char* what() const noexcept override { return msg_.c_str(); }

 private:
  std::string msg_;
};

// Where the decoder is: the chain of message fields from the root, plus the
// leaf field being read. Updating it costs a few stores per field, so error
// messages can name "resource_spans[0].scope_spans[0].spans[3].trace_id" without
// any bookkeeping on the success path. The frame count doubles as the nesting
// depth guard. Not thread-safe; one per decode call.
class DecodePath {
 public:
  static constexpr size_t kNoIndex = std::numeric_limits<size_t>::max();
  static constexpr int kCapacity = 64;

  // `root` names the top message (a string literal); `max_depth` <= kCapacity.
  DecodePath(const char* root, int max_depth) : root_(root), max_depth_(max_depth) {}

  // Descends into a message field; index is the element index for repeated
  // fields, kNoIndex for singular ones. Throws DecodeError past max_depth.
  void enter(const char* field, size_t index) {
    if (depth_ >= max_depth_) fail_too_deep();
    frames_[depth_++] = Frame{field, index};
    leaf_ = nullptr;
    leaf_tag_ = 0;
  }
  void leave() {
    --depth_;
    leaf_ = nullptr;
    leaf_tag_ = 0;
  }
  void set_leaf(const char* name) { leaf_ = name; }
  void set_leaf_tag(uint32_t tag) {
    leaf_ = nullptr;
    leaf_tag_ = tag;
  }

  // "Root.a[0].b.leaf".
  std::string to_string() const;
  // Throws DecodeError("<path>: <what>").
  [[noreturn]] void fail(std::string_view what) const;

 private:
  struct Frame {
    const char* field;
    size_t index;
  };
  [[noreturn]] void fail_too_deep() const;

  const char* root_;
  int max_depth_;
  int depth_ = 0;
  const char* leaf_ = nullptr;
  uint32_t leaf_tag_ = 0;
  Frame frames_[kCapacity];
};

// Runs `fn(reader, path)` over `data` and converts every decoder failure
// (protozero::exception, DecodeError, std::bad_alloc) into a Status naming the path.
template <typename Fn>
Status decode_status(std::string_view data, const char* root, int max_depth, Fn&& fn) noexcept;

// Advances to the next field, clearing the leaf so a failure while reading the
// key is not blamed on the previous field.
inline bool next_field(protozero::pbf_reader& r, DecodePath& p) {
  p.set_leaf_tag(0);
  if (!r.next()) return false;
  p.set_leaf_tag(r.tag());
  return true;
}

[[noreturn]] void fail_wire_type(const protozero::pbf_reader& r, DecodePath& p, const char* name);

inline void expect_wire(const protozero::pbf_reader& r, protozero::pbf_wire_type wt, DecodePath& p,
                        const char* name) {
  p.set_leaf(name);
  if (r.wire_type() != wt) fail_wire_type(r, p, name);
}

using WT = protozero::pbf_wire_type;

inline std::string_view read_bytes(protozero::pbf_reader& r, DecodePath& p, const char* name) {
  expect_wire(r, WT::length_delimited, p, name);
  const protozero::data_view v = r.get_view();
  return {v.data(), v.size()};
}
inline protozero::pbf_reader read_message(protozero::pbf_reader& r, DecodePath& p,
                                          const char* name) {
  expect_wire(r, WT::length_delimited, p, name);
  return r.get_message();
}
inline uint64_t read_fixed64(protozero::pbf_reader& r, DecodePath& p, const char* name) {
  expect_wire(r, WT::fixed64, p, name);
  return r.get_fixed64();
}
inline int64_t read_sfixed64(protozero::pbf_reader& r, DecodePath& p, const char* name) {
  expect_wire(r, WT::fixed64, p, name);
  return r.get_sfixed64();
}
inline double read_double(protozero::pbf_reader& r, DecodePath& p, const char* name) {
  expect_wire(r, WT::fixed64, p, name);
  return r.get_double();
}
inline uint32_t read_fixed32(protozero::pbf_reader& r, DecodePath& p, const char* name) {
  expect_wire(r, WT::fixed32, p, name);
  return r.get_fixed32();
}
inline uint64_t read_uint64(protozero::pbf_reader& r, DecodePath& p, const char* name) {
  expect_wire(r, WT::varint, p, name);
  return r.get_uint64();
}
inline uint32_t read_uint32(protozero::pbf_reader& r, DecodePath& p, const char* name) {
  expect_wire(r, WT::varint, p, name);
  return r.get_uint32();
}
inline int64_t read_int64(protozero::pbf_reader& r, DecodePath& p, const char* name) {
  expect_wire(r, WT::varint, p, name);
  return r.get_int64();
}
inline int32_t read_enum(protozero::pbf_reader& r, DecodePath& p, const char* name) {
  expect_wire(r, WT::varint, p, name);
  return r.get_enum();
}
inline int32_t read_sint32(protozero::pbf_reader& r, DecodePath& p, const char* name) {
  expect_wire(r, WT::varint, p, name);
  return r.get_sint32();
}
// protozero's get_bool() dereferences before its bounds check; a full varint read does not.
inline bool read_bool(protozero::pbf_reader& r, DecodePath& p, const char* name) {
  expect_wire(r, WT::varint, p, name);
  return r.get_uint64() != 0;
}

// Repeated scalars: protobuf parsers must accept both the packed form (one
// length-delimited field) and the unpacked form (one field per element).
void append_fixed64s(protozero::pbf_reader& r, DecodePath& p, const char* name,
                     std::vector<uint64_t>* out);
void append_doubles(protozero::pbf_reader& r, DecodePath& p, const char* name,
                    std::vector<double>* out);
void append_uint64s(protozero::pbf_reader& r, DecodePath& p, const char* name,
                    std::vector<uint64_t>* out);
void append_int64s(protozero::pbf_reader& r, DecodePath& p, const char* name,
                   std::vector<int64_t>* out);

// Occurrences of field `tag` in the rest of the message `r` reads (r is a copy
// and is not advanced). Decoders reserve repeated fields with it: one pass over
// the keys is cheaper than growing a vector of large structs several times.
// On malformed input it returns the count so far and leaves the error to the
// real decode pass, which can name the field.
inline size_t count_field(protozero::pbf_reader r, uint32_t tag) noexcept {
  size_t n = 0;
  try {
    while (r.next()) {
      n += r.tag() == tag;
      r.skip();
    }
  } catch (const protozero::exception&) {
  }
  return n;
}

// Requires an id of exactly `want` bytes or none at all (OTLP: 16-byte trace
// ids, 8-byte span ids; empty means "not set").
inline void check_id_length(std::string_view id, size_t want, DecodePath& p, const char* name) {
  if (!id.empty() && id.size() != want) {
    p.set_leaf(name);
    p.fail("length " + std::to_string(id.size()) + ", want 0 or " + std::to_string(want));
  }
}

// ---- implementation --------------------------------------------------------

template <typename Fn>
Status decode_status(std::string_view data, const char* root, int max_depth, Fn&& fn) noexcept {
  DecodePath path(root, max_depth);
  try {
    protozero::pbf_reader reader{data.data(), data.size()};
    fn(reader, path);
    return Status::ok_status();
  } catch (const DecodeError& e) {
    return Status::invalid_argument(e.what());
  } catch (const protozero::exception& e) {
    return Status::invalid_argument(path.to_string() + ": " + e.what());
  } catch (const std::bad_alloc&) {
    return Status::too_large(path.to_string() + ": out of memory while decoding");
  }
}

}  // namespace pyrometer::common::proto
