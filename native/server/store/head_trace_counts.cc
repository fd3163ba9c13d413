// TraceSpanCounts implementation: linear probing over two generations.
#include "server/store/head_trace_counts.h"

#include <algorithm>
#include <cstring>

namespace pyrometer::server::store {
namespace {

constexpr size_t kMinSlots = 64;

size_t slots_for(size_t max_bytes, size_t slot_size) {
  size_t fit = max_bytes / 2 / slot_size;
  size_t n = kMinSlots;
  while (n * 2 <= fit) n *= 2;
  return n;
}

}  // namespace

TraceSpanCounts::TraceSpanCounts(uint32_t max_spans_per_trace, size_t max_bytes)
    : max_spans_(max_spans_per_trace),
      slots_(slots_for(max_bytes, sizeof(Slot))),
      current_(slots_),
      previous_(slots_) {}

TraceSpanCounts::Slot* TraceSpanCounts::find(std::vector<Slot>& table, uint64_t hi, uint64_t lo,
                                             bool* found) {
  // Trace ids are random, but the mix keeps ids differing only in their low
  // bytes (some SDKs' test generators) from piling into one probe run.
  uint64_t h = (hi ^ (lo * 0x9E3779B97F4A7C15ull)) * 0xC2B2AE3D27D4EB4Full;
  size_t mask = slots_ - 1;
  for (size_t i = static_cast<size_t>(h >> 17) & mask;; i = (i + 1) & mask) {
    Slot& s = table[i];
    if (s.spans == 0 && s.truncated == 0) {
      *found = false;
      return &s;
    }
    if (s.hi == hi && s.lo == lo) {
      *found = true;
      return &s;
    }
  }
}

TraceSpanCounts::Verdict TraceSpanCounts::count(uint32_t* spans, uint32_t* truncated) {
  if (*spans >= max_spans_) {
    if (*truncated) return Verdict::kDrop;
    *truncated = 1;
    return Verdict::kTruncateFirst;
  }
  ++*spans;
  return Verdict::kAccept;
}

TraceSpanCounts::Verdict TraceSpanCounts::add_span(std::string_view trace_id) {
  char buf[16] = {};
  std::memcpy(buf, trace_id.data(), std::min<size_t>(trace_id.size(), 16));
  uint64_t hi, lo;
  std::memcpy(&hi, buf, 8);
  std::memcpy(&lo, buf + 8, 8);
  if (hi == 0 && lo == 0) return count(&zero_.spans, &zero_.truncated);
  if (last_ && last_->hi == hi && last_->lo == lo) return count(&last_->spans, &last_->truncated);
  bool found;
  Slot* s = find(current_, hi, lo, &found);
  if (!found) {
    // At most half full, so probe runs stay short and an empty slot exists.
    if (current_used_ >= slots_ / 2) {
      previous_.swap(current_);  // vectors swap buffers: last_ would point into previous_
      std::fill(current_.begin(), current_.end(), Slot{});
      current_used_ = 0;
      s = find(current_, hi, lo, &found);
    }
    bool in_previous;
    const Slot* p = find(previous_, hi, lo, &in_previous);
    s->hi = hi;
    s->lo = lo;
    s->spans = in_previous ? p->spans : 0;
    s->truncated = in_previous ? p->truncated : 0;
    ++current_used_;
  }
  last_ = s;
  return count(&s->spans, &s->truncated);
}

}  // namespace pyrometer::server::store
