// Column codecs: varints, zigzag, delta and delta-of-delta integer columns,
// a string dictionary and zstd framing. Shared by the WAL, head and blocks.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"

namespace pyrometer::server::store {

using common::Status;

inline uint64_t zigzag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t unzigzag(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

void put_varint(std::string* out, uint64_t v);
void put_fixed32(std::string* out, uint32_t v);
void put_fixed64(std::string* out, uint64_t v);
void put_bytes(std::string* out, std::string_view b);  // varint length + bytes
void put_double(std::string* out, double v);
uint32_t get_fixed32(const char* p);
uint64_t get_fixed64(const char* p);

// Bounds-checked cursor over untrusted bytes: every getter returns false
// (and latches failed()) instead of reading past the end.
class ByteReader {
 public:
  explicit ByteReader(std::string_view data) : data_(data) {}
  bool varint(uint64_t* v);
  bool fixed32(uint32_t* v);
  bool fixed64(uint64_t* v);
  bool dbl(double* v);
  bool bytes(std::string_view* v);  // varint length + bytes
  bool raw(size_t n, std::string_view* v);
  bool done() const { return pos_ == data_.size(); }
  bool failed() const { return failed_; }
  size_t pos() const { return pos_; }

 private:
  bool fail() { return !(failed_ = true); }
  std::string_view data_;
  size_t pos_ = 0;
  bool failed_ = false;
};

// How an integer column is laid out before zstd.
enum class IntEncoding : uint8_t {
  kVarint = 0,        // each value as a varint (dictionary ids, small counts)
  kDelta = 1,         // zigzag(v[i] - v[i-1]) varints (sorted-ish values)
  kDeltaOfDelta = 2,  // zigzag((v[i]-v[i-1]) - (v[i-1]-v[i-2])) (regular timestamps)
};
void encode_ints(const std::vector<uint64_t>& v, size_t begin, size_t end, IntEncoding enc,
                 std::string* out);
// Decodes exactly `n` values; Corruption if the bytes do not hold them.
Status decode_ints(std::string_view in, size_t n, IntEncoding enc, std::vector<uint64_t>* out);

// zstd at the given level; decompression refuses output above `max_size`.
void zstd_compress(std::string_view in, int level, std::string* out);
Status zstd_decompress(std::string_view in, size_t expected_size, std::string* out);

// String dictionary: id 0 is always "", ids are dense in insertion order.
// Not thread-safe; owners lock around it.
class Dictionary {
 public:
  Dictionary() { intern(""); }
  uint32_t intern(std::string_view s);
  // Returns false when `s` is not in the dictionary.
  bool find(std::string_view s, uint32_t* id) const;
  std::string_view at(uint32_t id) const {
    if (fetch_) return lazy_at(id);
    return id < strings_.size() ? std::string_view(strings_[id]) : std::string_view();
  }
  size_t size() const { return fetch_ ? lazy_size_ : strings_.size(); }

  // Lazy mode, for reading a few rows of a big block: `size` strings fetched
  // on demand (from dictionary pages on disk). `fetch` returns false when a
  // page is unreadable; at() then yields "" and failed() turns true. A lazy
  // dictionary is read-only (intern/find/serialize are not for it).
  using Fetch = std::function<bool(uint32_t id, std::string_view* out)>;
  void set_lazy(size_t size, Fetch fetch) {
    lazy_size_ = size;
    fetch_ = std::move(fetch);
  }
  bool failed() const { return lazy_failed_; }
  size_t bytes() const { return bytes_; }
  void serialize(std::string* out) const;
  Status parse(std::string_view in);

 private:
  std::string_view lazy_at(uint32_t id) const;

  std::deque<std::string> strings_;                     // deque: element addresses never move
  std::unordered_map<std::string_view, uint32_t> ids_;  // views into strings_
  size_t bytes_ = 0;
  size_t lazy_size_ = 0;
  Fetch fetch_;
  mutable bool lazy_failed_ = false;
};

}  // namespace pyrometer::server::store
