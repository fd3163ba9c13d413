// Per-span profile summaries for the trace detail: the samples labelled with
// a span (read by trace id from the store) as counts per function and stack,
// enough for a mini flame graph beside the span in the waterfall.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "server/query/json_writer.h"
#include "server/store/store.h"

namespace pyrometer::server::query {

// One function of a span's samples. `self`: samples where it is the leaf;
// `total`: samples whose stack contains it (once per stack, so recursion is
// not double-counted); `line`: its line seen in the most samples.
struct FunctionCount {
  std::string function, file;
  int64_t line = 0;
  int64_t self = 0, total = 0;
};

struct SpanProfile {
  std::string type;  // cpu | wall | alloc | heap
  int64_t samples = 0;
  std::vector<FunctionCount> functions;      // by total, then self, descending
  std::vector<store::ProfileSample> stacks;  // frames root first, values {count}; by count
};

inline constexpr size_t kMaxFunctionsPerSpan = 500;

// Groups rows read with ProfileFilter::trace_id by span id (raw 8 bytes);
// each span's profiles are ordered cpu, wall, alloc, heap, then by name.
std::map<std::string, std::vector<SpanProfile>> span_profiles(
    const std::vector<store::ProfileRow>& rows);

// {"type", "samples", "functions": [{function, file, line, self, total}],
//  "stacks": [{"frames": [...], "count"}]} (docs/openapi.yaml SpanProfile).
void write_span_profile(const SpanProfile& p, JsonWriter* w);

}  // namespace pyrometer::server::query
