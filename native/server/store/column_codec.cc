// Implementation of the column codecs. Integers are little-endian on disk;
// varints are protobuf's base-128 format.
#include "server/store/column_codec.h"

#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <memory>

namespace pyrometer::server::store {

void put_varint(std::string* out, uint64_t v) {
  char buf[10];
  int n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out->append(buf, n);
}

void put_fixed32(std::string* out, uint32_t v) {
  char b[4];
  std::memcpy(b, &v, 4);  // little-endian hosts only (x86-64, arm64)
  out->append(b, 4);
}

void put_fixed64(std::string* out, uint64_t v) {
  char b[8];
  std::memcpy(b, &v, 8);
  out->append(b, 8);
}

void put_double(std::string* out, double v) {
  uint64_t u;
  std::memcpy(&u, &v, 8);
  put_fixed64(out, u);
}

void put_bytes(std::string* out, std::string_view b) {
  put_varint(out, b.size());
  out->append(b);
}

uint32_t get_fixed32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

uint64_t get_fixed64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

bool ByteReader::varint(uint64_t* v) {
  uint64_t r = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos_ >= data_.size()) return fail();
    uint8_t b = static_cast<uint8_t>(data_[pos_++]);
    r |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *v = r;
      return true;
    }
  }
  return fail();
}

bool ByteReader::fixed32(uint32_t* v) {
  if (data_.size() - pos_ < 4) return fail();
  *v = get_fixed32(data_.data() + pos_);
  pos_ += 4;
  return true;
}

bool ByteReader::fixed64(uint64_t* v) {
  if (data_.size() - pos_ < 8) return fail();
  *v = get_fixed64(data_.data() + pos_);
  pos_ += 8;
  return true;
}

bool ByteReader::dbl(double* v) {
  uint64_t u;
  if (!fixed64(&u)) return false;
  std::memcpy(v, &u, 8);
  return true;
}

bool ByteReader::raw(size_t n, std::string_view* v) {
  if (data_.size() - pos_ < n) return fail();
  *v = data_.substr(pos_, n);
  pos_ += n;
  return true;
}

bool ByteReader::bytes(std::string_view* v) {
  uint64_t n;
  if (!varint(&n)) return false;
  return raw(n, v);
}

void encode_ints(const std::vector<uint64_t>& v, size_t begin, size_t end, IntEncoding enc,
                 std::string* out) {
  uint64_t prev = 0;
  int64_t prev_delta = 0;
  for (size_t i = begin; i < end; ++i) {
    switch (enc) {
      case IntEncoding::kVarint:
        put_varint(out, v[i]);
        break;
      case IntEncoding::kDelta:
        put_varint(out, zigzag(static_cast<int64_t>(v[i] - prev)));
        break;
      case IntEncoding::kDeltaOfDelta: {
        int64_t d = static_cast<int64_t>(v[i] - prev);
        put_varint(out, zigzag(d - prev_delta));
        prev_delta = d;
        break;
      }
    }
    prev = v[i];
  }
}

Status decode_ints(std::string_view in, size_t n, IntEncoding enc, std::vector<uint64_t>* out) {
  ByteReader r(in);
  uint64_t prev = 0;
  int64_t prev_delta = 0;
  // Callers append page after page into one vector: grow geometrically, since
  // reserving exactly size()+n on every page made decoding a block quadratic.
  if (out->capacity() < out->size() + n)
    out->reserve(std::max(out->capacity() * 2, out->size() + n));
  for (size_t i = 0; i < n; ++i) {
    uint64_t x;
    if (!r.varint(&x)) return Status::corruption("integer column truncated");
    switch (enc) {
      case IntEncoding::kVarint:
        prev = x;
        break;
      case IntEncoding::kDelta:
        prev += static_cast<uint64_t>(unzigzag(x));
        break;
      case IntEncoding::kDeltaOfDelta:
        prev_delta += unzigzag(x);
        prev += static_cast<uint64_t>(prev_delta);
        break;
      default:
        return Status::corruption("unknown integer encoding");
    }
    out->push_back(prev);
  }
  if (!r.done()) return Status::corruption("integer column has trailing bytes");
  return Status::ok_status();
}

void zstd_compress(std::string_view in, int level, std::string* out) {
  size_t bound = ZSTD_compressBound(in.size());
  size_t old = out->size();
  out->resize(old + bound);
  size_t n = ZSTD_compress(out->data() + old, bound, in.data(), in.size(), level);
  // Compression of an in-memory buffer into a bound-sized output cannot fail.
  out->resize(old + (ZSTD_isError(n) ? 0 : n));
}

Status zstd_decompress(std::string_view in, size_t expected_size, std::string* out) {
  out->resize(expected_size);
  size_t n = ZSTD_decompress(out->data(), expected_size, in.data(), in.size());
  if (ZSTD_isError(n)) return Status::corruption(std::string("zstd: ") + ZSTD_getErrorName(n));
  if (n != expected_size) return Status::corruption("zstd: size mismatch");
  return Status::ok_status();
}

uint32_t Dictionary::intern(std::string_view s) {
  auto it = ids_.find(s);
  if (it != ids_.end()) return it->second;
  strings_.emplace_back(s);
  uint32_t id = static_cast<uint32_t>(strings_.size() - 1);
  bytes_ += s.size() + 64;  // string + map node, roughly
  ids_.emplace(std::string_view(strings_.back()), id);
  return id;
}

std::string_view Dictionary::lazy_at(uint32_t id) const {
  std::string_view v;
  if (id >= lazy_size_) return v;
  if (!fetch_(id, &v)) {
    lazy_failed_ = true;
    return {};
  }
  return v;
}

bool Dictionary::find(std::string_view s, uint32_t* id) const {
  auto it = ids_.find(s);
  if (it == ids_.end()) return false;
  *id = it->second;
  return true;
}

void Dictionary::serialize(std::string* out) const {
  put_varint(out, strings_.size());
  for (const auto& s : strings_) put_bytes(out, s);
}

Status Dictionary::parse(std::string_view in) {
  ByteReader r(in);
  uint64_t n;
  if (!r.varint(&n) || n == 0 || n > in.size()) return Status::corruption("dictionary header");
  strings_.clear();
  ids_.clear();
  bytes_ = 0;
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view s;
    if (!r.bytes(&s)) return Status::corruption("dictionary truncated");
    // A corrupt file may repeat a string; ids then shift, which the CRC
    // check before parsing makes practically impossible.
    intern(s);
  }
  return Status::ok_status();
}

}  // namespace pyrometer::server::store
