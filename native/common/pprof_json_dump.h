// Canonical JSON dump of a pprof Profile, every field included, for tests and the
// interop tool (tools/otlp_tool.cc). Field names as in profile.proto.
#pragma once

#include <string>

#include "common/pprof_model.h"

namespace pyrometer::common::pprof {

std::string dump_json(const Profile& profile);

}  // namespace pyrometer::common::pprof
