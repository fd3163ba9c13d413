// Diagnostics: how the agent's native parts report their own failures without
// calling into Python — an error counter, the last message, and messages to log once.
#pragma once

#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace pyrometer::agent {

// Thread-safety: all methods may be called from any thread (no GIL needed).
// Python (pyrometer.runtime) drains take_messages() and logs each message once
// to the `pyrometer` logger; the native side never logs by itself.
class Diagnostics {
 public:
  // Counts an error and remembers `message` as the last one. The first time a
  // `key` is seen the message is also queued for Python to log.
  void error(const std::string& key, const std::string& message);
  // Queues `message` for logging the first time `key` is seen; not an error.
  void note_once(const std::string& key, const std::string& message);

  uint64_t error_count() const;
  std::string last_error() const;
  // Moves the queued messages out (at most kMaxPending are kept).
  std::vector<std::string> take_messages();
  // In a forked child: keeps the once-keys (already logged by the parent) and
  // the counters' history out of the child's report.
  void reset_in_child();
  void lock_for_fork() { mu_.lock(); }
  void unlock_for_fork() { mu_.unlock(); }

  static constexpr size_t kMaxPending = 32;

 private:
  mutable std::mutex mu_;
  uint64_t errors_ = 0;               // guarded by mu_
  std::string last_error_;            // guarded by mu_
  std::set<std::string> seen_;        // guarded by mu_
  std::vector<std::string> pending_;  // guarded by mu_
};

// The process-wide instance.
Diagnostics& diagnostics();

}  // namespace pyrometer::agent
