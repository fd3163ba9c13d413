// RouteTable: interns endpoint names (http.route, task names) to small ids so
// that a thread's active route can be published in thread_roots as one word.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace pyrometer::agent {

// Bounded: at most kMaxRoutes distinct names per process; further names map to
// 0 ("unknown") and are counted, so a route built from user input (an
// unparameterised URL) cannot grow memory without bound.
inline constexpr size_t kMaxRoutes = 4096;

// The id of `route` (1..kMaxRoutes), or 0 when the table is full or the name
// is empty. Thread-safe (a mutex; called once per request at most, never by
// samplers).
uint32_t intern_route(std::string_view route);
// The name of an id from intern_route, or "" for 0 / unknown ids. Thread-safe;
// for sampler threads resolving what they read from thread_roots.
std::string route_name(uint32_t id);
// Names refused because the table was full.
uint64_t routes_overflow();

}  // namespace pyrometer::agent
