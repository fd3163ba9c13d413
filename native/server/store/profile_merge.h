// Profile merging: pprof uploads are decoded into stacks of "function
// file:line" frames and summed per (service, route, type, minute), so a flame
// graph over an hour reads 60 merged rows instead of thousands of uploads.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "server/store/store.h"

namespace pyrometer::server::store {

inline constexpr size_t kProfileMaxStacksPerRow = 50000;  // beyond: folded into "[truncated]"

// Not thread-safe; the head locks around it.
class ProfileSet {
 public:
  // Decodes the pprof Profile and merges its samples. InvalidArgument on a
  // malformed profile (nothing merged then).
  Status add_pprof(std::string_view pprof, const ProfileLabels& labels);
  void merge(const ProfileRow& row);
  void merge_all(const ProfileSet& other);
  // Appends rows matching `f` (merged) to `out`.
  void collect(const ProfileFilter& f, std::vector<ProfileRow>* out) const;
  size_t size() const { return rows_.size(); }
  size_t bytes() const { return bytes_; }
  uint64_t min_minute() const;
  uint64_t max_minute() const;

  void serialize(std::string* out) const;
  Status parse(std::string_view in);

 private:
  struct Entry {
    std::vector<std::string> value_types;
    std::unordered_map<std::string, std::vector<int64_t>> stacks;  // frames joined by '\n'
    int64_t uploads = 0;
  };
  using Key = std::tuple<uint64_t, std::string, std::string, std::string>;
  void add_stack(Entry* e, std::string stack, const std::vector<int64_t>& values);
  std::map<Key, Entry> rows_;
  size_t bytes_ = 0;
};

// Merges rows with equal (minute, service, route, type) in `rows`, in place.
void merge_profile_rows(std::vector<ProfileRow>* rows);

}  // namespace pyrometer::server::store
