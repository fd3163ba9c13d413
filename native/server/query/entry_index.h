// EntryIndex: remembers, during a span scan, the endpoint of each service's
// entry span per trace, so a DB call or exception found in the same scan can
// be attributed to the endpoint (local root) that caused it.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>

#include "server/query/query_common.h"

namespace pyrometer::server::query {

// Not thread-safe; one per request.
class EntryIndex {
 public:
  void observe(const store::SpanRow& s) {
    if (!is_entry(s)) return;
    std::string& e = map_[key(s.trace_id, s.service)];
    // A SERVER/CONSUMER span beats a parentless internal one.
    if (e.empty() || s.kind == 2 || s.kind == 5) e.assign(endpoint_of(s));
  }
  // "" when the trace's entry span of `service` was not seen.
  std::string_view lookup(std::string_view trace_id, std::string_view service) const {
    auto it = map_.find(key(trace_id, service));
    return it == map_.end() ? std::string_view() : std::string_view(it->second);
  }

 private:
  // Built in a reused buffer: a trace id plus a service name is past the
  // small-string size, and a fresh string per span was a malloc per lookup.
  const std::string& key(std::string_view trace_id, std::string_view service) const {
    scratch_.assign(trace_id);
    scratch_ += service;
    return scratch_;
  }
  mutable std::string scratch_;
  std::unordered_map<std::string, std::string> map_;
};

}  // namespace pyrometer::server::query
