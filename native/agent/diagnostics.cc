// Diagnostics implementation: a mutex-protected counter and a bounded list of
// messages that Python logs once.
#include "agent/diagnostics.h"

namespace pyrometer::agent {

void Diagnostics::error(const std::string& key, const std::string& message) {
  std::lock_guard<std::mutex> lock(mu_);
  ++errors_;
  last_error_ = message;
  if (seen_.insert(key).second && pending_.size() < kMaxPending) pending_.push_back(message);
}

void Diagnostics::note_once(const std::string& key, const std::string& message) {
  std::lock_guard<std::mutex> lock(mu_);
  if (seen_.insert(key).second && pending_.size() < kMaxPending) pending_.push_back(message);
}

uint64_t Diagnostics::error_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return errors_;
}

std::string Diagnostics::last_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_error_;
}

std::vector<std::string> Diagnostics::take_messages() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  out.swap(pending_);
  return out;
}

void Diagnostics::reset_in_child() {
  // Called with mu_ held by lock_for_fork in the forking thread.
  errors_ = 0;
  last_error_.clear();
  pending_.clear();
  mu_.unlock();
}

Diagnostics& diagnostics() {
  static Diagnostics* d = new Diagnostics();  // leaked: used by threads up to exit
  return *d;
}

}  // namespace pyrometer::agent
