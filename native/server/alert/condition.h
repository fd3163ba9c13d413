// Measures a rule's metric over its window from the store, per service.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "common/status.h"
#include "server/alert/rule.h"
#include "server/store/store.h"

namespace pyrometer::server::alert {

// Fills `values` with service → measured value for every service in scope
// that has enough data in [now - window, now) (a service with fewer than
// min_requests requests gets no value: no data is not an alert). Thread-safe
// with respect to the store.
common::Status measure(store::Store* store, const Rule& rule, uint64_t now_unix_nano,
                       std::map<std::string, double>* values);

inline bool breached(const Rule& r, double v) {
  return r.op == "<" ? v < r.threshold : v > r.threshold;
}

}  // namespace pyrometer::server::alert
