// Structural validation of an uncompressed pprof Profile message, so garbage
// uploads get a 400 instead of reaching the store.
#pragma once

#include <string_view>

#include "common/status.h"

namespace pyrometer::server::ingest {

// Checks that `pprof` is a well-formed perftools.profiles.Profile: valid
// protobuf wire format with the right wire type for every known field,
// string_table[0] == "", at least one sample_type, and every sample has
// one value per sample_type. Returns invalid_argument naming the problem.
// Does not resolve location/function ids (the store does, tolerantly).
// Reentrant; never reads outside `pprof`.
common::Status check_pprof(std::string_view pprof);

}  // namespace pyrometer::server::ingest
