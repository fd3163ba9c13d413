// W3C `tracestate`: the vendor-specific key=value list that travels with
// traceparent. Parsed strictly; an invalid header is dropped as a whole.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pyrometer::common {

// An ordered list of at most kMaxEntries members, leftmost = most recently
// updated. Keys are unique.
//
// Grammar (W3C Trace Context Level 2, section 3.3):
//   key    = simple-key / multi-tenant-key
//   simple-key       = lcalpha 0*255( lcalpha / DIGIT / "_" / "-"/ "*" / "/" )
//   multi-tenant-key = tenant-id "@" system-id
//   tenant-id        = ( lcalpha / DIGIT ) 0*240( lcalpha / DIGIT / "_" / "-"/ "*" / "/" )
//   system-id        = lcalpha 0*13( lcalpha / DIGIT / "_" / "-"/ "*" / "/" )
//   value  = 0*255(chr) nblk-chr ; chr = %x20 / nblk-chr ;
//            nblk-chr = %x21-2B / %x2D-3C / %x3E-7E   (no ',' and no '=')
//   list   = member *( OWS "," OWS member ), empty members allowed, OWS = SP / HTAB
//
// Not thread-safe; a value type.
class TraceState {
 public:
  static constexpr size_t kMaxEntries = 32;
  // The W3C "SHOULD propagate at least" length; to_header() truncates to it.
  static constexpr size_t kMaxHeaderLength = 512;

  struct Entry {
    std::string key;
    std::string value;
    friend bool operator==(const Entry&, const Entry&) = default;
  };

  // Parses one header value. Several `tracestate` header lines must be joined
  // with ',' first (HTTP list semantics; W3C requires combining them).
  // nullopt when the header is invalid in any way — a bad key or value, a
  // duplicate key, more than 32 members — and the caller then drops it,
  // keeping the traceparent (W3C: "vendors MUST discard the tracestate").
  // An empty or all-whitespace header gives an empty TraceState.
  static std::optional<TraceState> parse(std::string_view header);

  static bool valid_key(std::string_view key);
  static bool valid_value(std::string_view value);

  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }
  const std::vector<Entry>& entries() const { return entries_; }
  // The value for `key`, or nullopt. The view is valid until the next mutation.
  std::optional<std::string_view> get(std::string_view key) const;

  // Inserts or updates `key`, moving it to the front (W3C: a vendor that
  // changes its entry puts it leftmost). When the list is full, the rightmost
  // entry is dropped. Returns false (and changes nothing) for an invalid
  // key or value.
  bool put(std::string_view key, std::string_view value);
  // Removes `key`; returns whether it was present.
  bool erase(std::string_view key);

  // Serialises as "k1=v1,k2=v2". If the result would exceed kMaxHeaderLength,
  // applies the W3C truncation rule: drop entries longer than 128 characters
  // (from the right) first, then drop from the right until it fits.
  std::string to_header() const;

  friend bool operator==(const TraceState&, const TraceState&) = default;

 private:
  std::vector<Entry> entries_;
};

}  // namespace pyrometer::common
