// ProfileTraceIndex: profile samples that carry `trace_id`/`span_id` labels,
// kept per (trace, span, type) as stack counts, so a trace's detail can show
// what each span was doing; the merged per-minute rows lose those labels.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/status.h"
#include "server/store/column_codec.h"
#include "server/store/store.h"

namespace pyrometer::server::store {

// Bounds per index (one head or one block): the index is a by-product of
// profiling and must not grow with traffic beyond these.
inline constexpr size_t kProfileMaxTraces = 100000;       // further traces: not indexed, counted
inline constexpr size_t kProfileMaxSpansPerTrace = 1000;  // further (span, type): not indexed
inline constexpr size_t kProfileMaxStacksPerSpan = 256;   // further stacks: "[truncated]"

// Not thread-safe; the owner (ProfileSet, under the head's lock) serializes
// access. Ids are raw bytes: trace 16, span 8.
class ProfileTraceIndex {
 public:
  // Adds `count` samples of `stack` ("function file:line" frames, root first,
  // joined by '\n') to (trace, span, type). Returns false, adding nothing,
  // when a bound refuses a new trace or span (the caller counts it).
  bool add(std::string_view trace_id, std::string_view span_id, std::string_view service,
           std::string_view type, uint64_t minute_unix_nano, std::string_view stack, int64_t count);
  void merge_all(const ProfileTraceIndex& other);

  // One ProfileRow per (span, type) of `trace_id` (trace_id and span_id set,
  // value_types {"samples/count"}, one value per stack), appended to `out`.
  // `type` filters when non-empty.
  void collect(std::string_view trace_id, std::string_view type,
               std::vector<ProfileRow>* out) const;

  bool empty() const { return traces_.empty(); }
  size_t bytes() const { return bytes_; }

  // The section the profiles file carries after its merged rows (format in
  // docs/storage-format.md); frames and strings are interned in `dict`, the
  // file's dictionary. Writes nothing when empty.
  void serialize(Dictionary* dict, std::string* out) const;
  // Reads a section written by serialize() and merges it in (only trace
  // `only_trace` when non-empty); `r` is past the rows. Corruption on a
  // malformed section.
  Status parse(ByteReader* r, const Dictionary& dict, std::string_view only_trace = {});
  // The same section holding only `trace_id` (nothing when absent): one
  // chunk of the profiles.traces block file.
  void serialize_trace(std::string_view trace_id, Dictionary* dict, std::string* out) const;
  // Indexed trace ids, sorted bytewise.
  std::vector<std::string> trace_ids() const;

  static constexpr std::string_view kMagic = "PTX1";

 private:
  struct SpanEntry {
    std::string service;
    uint64_t minute_unix_nano = 0;  // first upload that touched it
    std::unordered_map<std::string, int64_t> stacks;
  };
  // (span id, profile type) → stacks.
  using Spans = std::map<std::pair<std::string, std::string>, SpanEntry>;
  static void serialize_entry(const std::string& trace, const Spans& spans, Dictionary* dict,
                              std::string* out);
  std::unordered_map<std::string, Spans> traces_;
  size_t bytes_ = 0;
};

}  // namespace pyrometer::server::store
