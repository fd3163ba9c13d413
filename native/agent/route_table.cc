// RouteTable: interns endpoint names (http.route, task names) to small ids so
// that a thread's active route can be published in thread_roots as one word.
#include "agent/route_table.h"

#include <pthread.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace pyrometer::agent {
namespace {

// Transparent, so a lookup by string_view builds no std::string (one
// allocation per request otherwise: every request span interns its route).
struct RouteHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

struct Table {
  std::mutex mu;
  std::unordered_map<std::string, uint32_t, RouteHash, std::equal_to<>> ids;  // guarded by mu
  std::vector<std::string> names{std::string()};  // guarded by mu; [0] = unknown
  std::atomic<uint64_t> overflow{0};
};

// The lock is taken around fork() so that the child never inherits it held
// (nor the maps half-updated) by a thread that does not exist there.
void lock_for_fork();
void unlock_after_fork();

// Never destroyed: sampler threads may resolve names during interpreter exit.
Table& table() {
  static Table* t = [] {
    Table* created = new Table;
    pthread_atfork(&lock_for_fork, &unlock_after_fork, &unlock_after_fork);
    return created;
  }();
  return *t;
}

void lock_for_fork() { table().mu.lock(); }
void unlock_after_fork() { table().mu.unlock(); }

}  // namespace

uint32_t intern_route(std::string_view route) {
  if (route.empty()) return 0;
  Table& t = table();
  std::lock_guard<std::mutex> lock(t.mu);
  auto it = t.ids.find(route);
  if (it != t.ids.end()) return it->second;
  if (t.names.size() > kMaxRoutes) {
    t.overflow.fetch_add(1, std::memory_order_relaxed);
    return 0;
  }
  const uint32_t id = static_cast<uint32_t>(t.names.size());
  t.names.emplace_back(route);
  t.ids.emplace(std::string(route), id);
  return id;
}

std::string route_name(uint32_t id) {
  Table& t = table();
  std::lock_guard<std::mutex> lock(t.mu);
  return id < t.names.size() ? t.names[id] : std::string();
}

uint64_t routes_overflow() { return table().overflow.load(std::memory_order_relaxed); }

}  // namespace pyrometer::agent
