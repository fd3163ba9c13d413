// Exception capture rules that need no interpreter: which stack frames are the
// application's own ("in_app") and how a recorded exception marks a span.
#include "agent/exception_capture.h"

#include <atomic>
#include <utility>

#include "agent/span.h"

namespace pyrometer::agent {
namespace {

std::atomic<const InAppRules*> g_rules{nullptr};

bool under(std::string_view file, std::string_view dir) {
  return file.size() > dir.size() && file.compare(0, dir.size(), dir) == 0 &&
         file[dir.size()] == '/';
}

}  // namespace

InAppRules::InAppRules(std::vector<std::string> excluded_prefixes) {
  for (std::string& p : excluded_prefixes) {
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    if (!p.empty()) excluded_.push_back(std::move(p));
  }
}

bool InAppRules::is_in_app(std::string_view file) const {
  if (file.empty()) return false;
  if (file.substr(0, 8) == "<frozen ") return false;
  if (file.find("/site-packages/") != std::string_view::npos) return false;
  if (file.find("/dist-packages/") != std::string_view::npos) return false;
  for (const std::string& dir : excluded_) {
    if (under(file, dir)) return false;
  }
  return true;
}

const InAppRules& in_app_rules() {
  static const InAppRules kEmpty;
  const InAppRules* r = g_rules.load(std::memory_order_acquire);
  return r != nullptr ? *r : kEmpty;
}

void set_in_app_rules(InAppRules rules) {
  g_rules.store(new InAppRules(std::move(rules)), std::memory_order_release);
}

bool apply_exception(SpanRecord& span, CapturedException&& exc, uint64_t time_unix_nano) {
  EventRecord event;
  event.time_unix_nano = time_unix_nano;
  event.name = "exception";
  event.attributes.push_back({StaticKey("exception.type"), AttrValue(exc.type)});
  event.attributes.push_back({StaticKey("exception.message"), AttrValue(exc.message)});
  event.attributes.push_back(
      {StaticKey("exception.stacktrace"), AttrValue(std::move(exc.stacktrace))});
  event.attributes.push_back({StaticKey("exception.escaped"), AttrValue(exc.escaped)});
  span.exception_stack = std::move(exc.frames);
  span.status_code = common::otlp::StatusCode::kError;
  span.status_message = exc.type + ": " + exc.message;
  return append_event(span.events, std::move(event));
}

}  // namespace pyrometer::agent
