// Exception grouping: the fingerprint of an "exception" span event is the
// XXH3 of its type and its in-app frames' file:function — never the message.
#pragma once

#include <string>
#include <vector>

#include "server/store/store.h"

namespace pyrometer::server::query {

struct ExceptionInfo {
  std::string type;
  std::string message;
  std::string stacktrace;
  std::string frames_json;  // pyrometer.exception.frames as JSON text, or ""
  std::string fingerprint;  // 16 hex digits
};

// Reads exception.type/message/stacktrace and pyrometer.exception.frames (an
// array of {file, line, function, in_app}). The fingerprint covers the type
// and "file:function" of in-app frames (all frames when none is in-app);
// without structured frames, the "File ..., in ..." lines of a Python
// stacktrace text are used. Line numbers are left out so an edit elsewhere
// in a file does not split a group.
ExceptionInfo exception_info(const std::vector<store::Attribute>& event_attributes);

}  // namespace pyrometer::server::query
