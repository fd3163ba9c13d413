// Exception capture rules that need no interpreter: which stack frames are the
// application's own ("in_app") and how a recorded exception marks a span.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "agent/span_record.h"

namespace pyrometer::agent {

// Decides whether a frame's file is application code. Not in app: frozen
// modules ("<frozen ...>"), anything under a `site-packages` or
// `dist-packages` directory, and anything under an excluded prefix (the
// standard library directories and pyrometer's own package, given by the
// binding from sysconfig at import). Other pseudo-files ("<string>",
// "<stdin>") are code the application ran, so they count as in app.
// Immutable after construction; thread-safe.
class InAppRules {
 public:
  InAppRules() = default;
  explicit InAppRules(std::vector<std::string> excluded_prefixes);
  bool is_in_app(std::string_view file) const;

 private:
  std::vector<std::string> excluded_;  // each without a trailing '/'
};

// The process-wide rules. set_in_app_rules() is called once at import;
// later calls replace the rules (the old ones are leaked on purpose, so a
// concurrent reader never sees them freed).
const InAppRules& in_app_rules();
void set_in_app_rules(InAppRules rules);

// The parts of a recorded exception, as the binding extracted them.
struct CapturedException {
  std::string type;                // qualified: "module.QualName", builtins without module
  std::string message;             // str(exc)
  std::string stacktrace;          // the usual traceback text
  std::vector<StackFrame> frames;  // outermost first
  bool escaped = false;            // recorded by __exit__ (the exception left the span)
};

// Adds the OTel `exception` event (exception.type, exception.message,
// exception.stacktrace, exception.escaped), stores the frames in
// `exception_stack`, and sets status ERROR with the message as description.
// Returns false when the event was dropped by the event limit (the frames and
// the status are set anyway).
bool apply_exception(SpanRecord& span, CapturedException&& exc, uint64_t time_unix_nano);

}  // namespace pyrometer::agent
