// Protobuf encoder and decoder for the pprof Profile message on protozero
// (uncompressed bytes; gzip.h handles the usual gzip wrapping).
//
// decode_profile rejects malformed protobuf exactly like the OTLP decoders
// (invalid_argument naming the field path) and also rejects a profile that does
// not hold together: a string index outside string_table, a non-empty
// string_table whose entry 0 is not "", a sample whose value count differs from
// sample_type's, a zero or duplicate Mapping/Location/Function id, or a reference
// (sample.location_id, location.mapping_id, line.function_id) to an id that
// does not exist. Unknown fields are skipped.
// Thread-safety: reentrant. `out` must be default-constructed; on failure its
// contents are unspecified.
#pragma once

#include <string>
#include <string_view>

#include "common/pprof_model.h"
#include "common/status.h"

namespace pyrometer::common::pprof {

// Messages in a Profile nest at most 3 deep (Profile > Location > Line).
inline constexpr int kMaxNesting = 8;

Status decode_profile(std::string_view data, Profile* out);

// Appends the serialized profile to *out (proto3: default values omitted,
// repeated scalars packed). Does not validate; encode what decode accepts.
void encode_profile(const Profile& profile, std::string* out);

// The referential checks decode_profile applies, for profiles built in memory.
Status validate_profile(const Profile& profile);

}  // namespace pyrometer::common::pprof
