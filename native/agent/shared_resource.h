// SharedResource: the process's OTLP resource, readable by the exporter thread
// while a worker updates it after fork (pid, worker index) — copy-on-write snapshots.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agent/otlp_batch.h"

namespace pyrometer::agent {

// Why snapshots rather than a lock held while encoding: the exporter builds
// requests whose string views point into the resource, for as long as a send
// with retries lasts; an update must neither wait for that nor invalidate it.
//
// Thread-safety: every method from any thread; none blocks on I/O or Python.
class SharedResource {
 public:
  explicit SharedResource(ExportResource initial)
      : current_(std::make_shared<const ExportResource>(std::move(initial))) {}

  // The resource as of now; stays valid (and unchanged) while held.
  std::shared_ptr<const ExportResource> get() const;

  // Sets typed attributes, replacing earlier values of the same keys (the
  // configured string attributes of that key are hidden). A string
  // "service.instance.id" replaces the instance id; "service.name" is ignored
  // (the service is configuration, not per worker). Values must be scalars.
  void update(const std::vector<Attribute>& attributes);
  void set_instance_id(std::string id);

  // Fork protocol: locked in prepare so no snapshot swap is half done.
  void lock_for_fork() { mu_.lock(); }
  void unlock_for_fork() { mu_.unlock(); }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const ExportResource> current_;  // guarded by mu_
};

}  // namespace pyrometer::agent
