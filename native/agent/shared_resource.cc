// SharedResource: each update publishes a new immutable ExportResource; readers
// keep whichever snapshot they took.
#include "agent/shared_resource.h"

namespace pyrometer::agent {

std::shared_ptr<const ExportResource> SharedResource::get() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

void SharedResource::update(const std::vector<Attribute>& attributes) {
  std::lock_guard<std::mutex> lock(mu_);
  auto next = std::make_shared<ExportResource>(*current_);
  for (const Attribute& a : attributes) {
    if (a.key.empty() || a.key == "service.name") continue;
    if (a.key == "service.instance.id") {
      if (const auto* id = std::get_if<std::string>(&a.value); id != nullptr && !id->empty()) {
        next->instance_id = *id;
      }
      continue;
    }
    bool replaced = false;
    for (Attribute& t : next->typed_attributes) {
      if (t.key == a.key) {
        t.value = a.value;
        replaced = true;
      }
    }
    if (!replaced) next->typed_attributes.push_back(a);
  }
  current_ = std::move(next);
}

void SharedResource::set_instance_id(std::string id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto next = std::make_shared<ExportResource>(*current_);
  next->instance_id = std::move(id);
  current_ = std::move(next);
}

}  // namespace pyrometer::agent
