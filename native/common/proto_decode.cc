// Checked protobuf field readers (see proto_decode.h): path formatting and the
// packed/unpacked repeated scalar readers.
#include "common/proto_decode.h"

namespace pyrometer::common::proto {

std::string DecodePath::to_string() const {
  std::string s = root_;
  for (int i = 0; i < depth_; ++i) {
    s += '.';
    s += frames_[i].field;
    if (frames_[i].index != kNoIndex) {
      s += '[';
      s += std::to_string(frames_[i].index);
      s += ']';
    }
  }
  if (leaf_ != nullptr) {
    s += '.';
    s += leaf_;
  } else if (leaf_tag_ != 0) {
    s += ".<field ";
    s += std::to_string(leaf_tag_);
    s += '>';
  }
  return s;
}

void DecodePath::fail(std::string_view what) const {
  std::string msg = to_string();
  msg += ": ";
  msg += what;
  throw DecodeError(std::move(msg));
}

void DecodePath::fail_too_deep() const {
  fail("messages nested deeper than " + std::to_string(max_depth_) + " levels");
}

namespace {

const char* wire_type_name(protozero::pbf_wire_type wt) {
  switch (wt) {
    case WT::varint:
      return "varint";
    case WT::fixed64:
      return "fixed64";
    case WT::length_delimited:
      return "length-delimited";
    case WT::fixed32:
      return "fixed32";
    default:
      return "unknown";
  }
}

}  // namespace

void fail_wire_type(const protozero::pbf_reader& r, DecodePath& p, const char* name) {
  p.set_leaf(name);
  p.fail(std::string("wrong wire type ") + wire_type_name(r.wire_type()) + " for field " +
         std::to_string(r.tag()));
}

void append_fixed64s(protozero::pbf_reader& r, DecodePath& p, const char* name,
                     std::vector<uint64_t>* out) {
  p.set_leaf(name);
  if (r.wire_type() == WT::length_delimited) {
    auto range = r.get_packed_fixed64();
    out->insert(out->end(), range.begin(), range.end());
  } else {
    out->push_back(read_fixed64(r, p, name));
  }
}

void append_doubles(protozero::pbf_reader& r, DecodePath& p, const char* name,
                    std::vector<double>* out) {
  p.set_leaf(name);
  if (r.wire_type() == WT::length_delimited) {
    auto range = r.get_packed_double();
    out->insert(out->end(), range.begin(), range.end());
  } else {
    out->push_back(read_double(r, p, name));
  }
}

void append_uint64s(protozero::pbf_reader& r, DecodePath& p, const char* name,
                    std::vector<uint64_t>* out) {
  p.set_leaf(name);
  if (r.wire_type() == WT::length_delimited) {
    // Varint ranges are not random access; push one by one so a truncated
    // element throws from the iterator instead of from a size pre-scan.
    for (uint64_t v : r.get_packed_uint64()) out->push_back(v);
  } else {
    out->push_back(read_uint64(r, p, name));
  }
}

void append_int64s(protozero::pbf_reader& r, DecodePath& p, const char* name,
                   std::vector<int64_t>* out) {
  p.set_leaf(name);
  if (r.wire_type() == WT::length_delimited) {
    for (int64_t v : r.get_packed_int64()) out->push_back(v);
  } else {
    out->push_back(read_int64(r, p, name));
  }
}

}  // namespace pyrometer::common::proto
