// Structural checks of a pprof Profile (see validate_profile in pprof_codec.h):
// string indices in range, ids unique and non-zero, references resolvable.
#include <algorithm>
#include <string>
#include <vector>

#include "common/pprof_codec.h"

namespace pyrometer::common::pprof {

namespace {

// Collects the first problem found; later checks are skipped once one fails.
class Checker {
 public:
  explicit Checker(const Profile& p) : strings_(static_cast<int64_t>(p.string_table.size())) {}

  bool failed() const { return !error_.empty(); }
  Status status() const {
    return failed() ? Status::invalid_argument("Profile." + error_) : Status::ok_status();
  }

  void string_index(int64_t idx, const std::string& where) {
    if (failed()) return;
    // Index 0 is "" even when the table is empty (an empty profile).
    if (idx == 0) return;
    if (idx < 0 || idx >= strings_) {
      error_ = where + ": string index " + std::to_string(idx) + " outside string_table of " +
               std::to_string(strings_);
    }
  }

  // Sorted ids of `items`, failing on zero or duplicate ids.
  template <typename T>
  std::vector<uint64_t> ids(const std::vector<T>& items, const char* name) {
    std::vector<uint64_t> out;
    out.reserve(items.size());
    for (size_t i = 0; i < items.size(); ++i) {
      if (items[i].id == 0) {
        fail(std::string(name) + "[" + std::to_string(i) + "].id: zero id");
        return out;
      }
      out.push_back(items[i].id);
    }
    std::sort(out.begin(), out.end());
    if (std::adjacent_find(out.begin(), out.end()) != out.end()) {
      fail(std::string(name) + ": duplicate id");
    }
    return out;
  }

  void reference(const std::vector<uint64_t>& ids, uint64_t id, bool zero_ok,
                 const std::string& where) {
    if (failed()) return;
    if (id == 0 && zero_ok) return;
    if (!std::binary_search(ids.begin(), ids.end(), id)) {
      fail(where + ": unknown id " + std::to_string(id));
    }
  }

  void fail(std::string msg) {
    if (!failed()) error_ = std::move(msg);
  }

 private:
  int64_t strings_;
  std::string error_;
};

std::string at(const char* name, size_t i) {
  return std::string(name) + "[" + std::to_string(i) + "]";
}

}  // namespace

Status validate_profile(const Profile& p) {
  Checker c(p);
  if (!p.string_table.empty() && !p.string_table[0].empty()) {
    c.fail("string_table[0]: must be empty");
  }
  for (size_t i = 0; i < p.sample_type.size(); ++i) {
    c.string_index(p.sample_type[i].type, at("sample_type", i) + ".type");
    c.string_index(p.sample_type[i].unit, at("sample_type", i) + ".unit");
  }
  c.string_index(p.drop_frames, "drop_frames");
  c.string_index(p.keep_frames, "keep_frames");
  c.string_index(p.period_type.type, "period_type.type");
  c.string_index(p.period_type.unit, "period_type.unit");
  c.string_index(p.default_sample_type, "default_sample_type");
  for (size_t i = 0; i < p.comment.size(); ++i) c.string_index(p.comment[i], at("comment", i));

  const std::vector<uint64_t> mapping_ids = c.ids(p.mapping, "mapping");
  const std::vector<uint64_t> location_ids = c.ids(p.location, "location");
  const std::vector<uint64_t> function_ids = c.ids(p.function, "function");

  for (size_t i = 0; i < p.mapping.size() && !c.failed(); ++i) {
    c.string_index(p.mapping[i].filename, at("mapping", i) + ".filename");
    c.string_index(p.mapping[i].build_id, at("mapping", i) + ".build_id");
  }
  for (size_t i = 0; i < p.function.size() && !c.failed(); ++i) {
    const Function& f = p.function[i];
    c.string_index(f.name, at("function", i) + ".name");
    c.string_index(f.system_name, at("function", i) + ".system_name");
    c.string_index(f.filename, at("function", i) + ".filename");
  }
  for (size_t i = 0; i < p.location.size() && !c.failed(); ++i) {
    const Location& loc = p.location[i];
    c.reference(mapping_ids, loc.mapping_id, /*zero_ok=*/true, at("location", i) + ".mapping_id");
    for (size_t j = 0; j < loc.line.size(); ++j) {
      c.reference(function_ids, loc.line[j].function_id, /*zero_ok=*/true,
                  at("location", i) + "." + at("line", j) + ".function_id");
    }
  }
  for (size_t i = 0; i < p.sample.size() && !c.failed(); ++i) {
    const Sample& s = p.sample[i];
    if (s.value.size() != p.sample_type.size()) {
      c.fail(at("sample", i) + ".value: " + std::to_string(s.value.size()) + " values for " +
             std::to_string(p.sample_type.size()) + " sample types");
    }
    for (size_t j = 0; j < s.location_id.size(); ++j) {
      c.reference(location_ids, s.location_id[j], /*zero_ok=*/false,
                  at("sample", i) + "." + at("location_id", j));
    }
    for (size_t j = 0; j < s.label.size(); ++j) {
      const Label& l = s.label[j];
      const std::string where = at("sample", i) + "." + at("label", j);
      c.string_index(l.key, where + ".key");
      c.string_index(l.str, where + ".str");
      c.string_index(l.num_unit, where + ".num_unit");
    }
  }
  return c.status();
}

}  // namespace pyrometer::common::pprof
