#include "common/status.h"

namespace pyrometer::common {

std::string Status::to_string() const {
  static constexpr std::string_view kNames[] = {"OK",          "InvalidArgument", "TooLarge",
                                                "Unavailable", "Corruption",      "IOError",
                                                "NotFound",    "Internal"};
  std::string out(kNames[static_cast<int>(code_)]);
  if (!message_.empty()) {
    out += ": ";
    out += message_;
  }
  return out;
}

}  // namespace pyrometer::common
