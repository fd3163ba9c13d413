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
#include "server/store/profile_trace_index.h"
#include "server/store/store.h"

namespace pyrometer::server::store {

inline constexpr size_t kProfileMaxStacksPerRow = 50000;  // beyond: folded into "[truncated]"
inline constexpr uint64_t kProfileFileVersion = 2;        // the profiles file layout written

// Not thread-safe; the head locks around it.
class ProfileSet {
 public:
  // Decodes the pprof Profile and merges its samples; samples labelled with
  // `trace_id` and `span_id` (hex strings) are also kept per span in the
  // trace index. InvalidArgument on a malformed profile (nothing merged then).
  Status add_pprof(std::string_view pprof, const ProfileLabels& labels);
  // A row with trace_id set goes to the trace index, others to merged rows.
  void merge(const ProfileRow& row);
  void merge_all(const ProfileSet& other);
  // Appends rows matching `f` (merged) to `out`; with f.trace_id, that
  // trace's per-span rows from the trace index instead.
  void collect(const ProfileFilter& f, std::vector<ProfileRow>* out) const;
  size_t size() const { return rows_.size(); }
  size_t bytes() const { return bytes_ + traces_.bytes(); }
  // Labelled samples the trace index refused (bounds) since construction.
  uint64_t unindexed_samples() const { return unindexed_; }
  uint64_t min_minute() const;
  uint64_t max_minute() const;

  // The block's profiles file (docs/storage-format.md). parse() merges a
  // file into this set; it reads both layouts (v1: rows then an optional
  // trace index; v2: a 0x00 marker and the rows length-prefixed, so a trace
  // lookup skips them).
  // With `with_trace_index` false the trace index is left out (blocks store
  // it apart, in profiles.traces: see profile_trace_file.h).
  void serialize(std::string* out, bool with_trace_index = true) const;
  Status parse(std::string_view in);
  // The per-trace index (blocks write and read it as its own file).
  const ProfileTraceIndex& trace_index() const { return traces_; }
  ProfileTraceIndex* mutable_trace_index() { return &traces_; }
  // For trace lookups: later parse() calls skip the merged rows and keep only
  // this trace's (16 raw bytes) index entries.
  void set_trace_only(std::string trace_id) { trace_only_ = std::move(trace_id); }

 private:
  struct Entry {
    std::vector<std::string> value_types;
    std::unordered_map<std::string, std::vector<int64_t>> stacks;  // frames joined by '\n'
    int64_t uploads = 0;
  };
  using Key = std::tuple<uint64_t, std::string, std::string, std::string>;
  void add_stack(Entry* e, std::string stack, const std::vector<int64_t>& values);
  Status parse_rows(ByteReader* r, const Dictionary& dict);
  void index_sample(std::string_view trace_id, std::string_view span_id, const ProfileLabels& l,
                    std::string_view stack, int64_t count);
  std::map<Key, Entry> rows_;
  ProfileTraceIndex traces_;
  std::string trace_only_;
  size_t bytes_ = 0;
  uint64_t unindexed_ = 0;
};

// Merges rows with equal (minute, service, route, type) in `rows`, in place;
// rows with trace_id set are merged per (trace, span, type) and kept apart.
void merge_profile_rows(std::vector<ProfileRow>* rows);

}  // namespace pyrometer::server::store
