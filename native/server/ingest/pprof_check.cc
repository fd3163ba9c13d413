// pprof structural check on protozero: wire types per field (profile.proto),
// the string-table invariant, and sample/value arity.
#include "server/ingest/pprof_check.h"

#include <cstdint>
#include <protozero/pbf_reader.hpp>
#include <string>
#include <vector>

namespace pyrometer::server::ingest {

using common::Status;
using protozero::pbf_wire_type;

namespace {

struct Invalid {
  std::string what;
};

// Walks a nested message checking only that its wire format is valid.
void check_message(protozero::pbf_reader r) {
  while (r.next()) r.skip();
}

size_t count_packed_or_single(protozero::pbf_reader& r) {
  if (r.wire_type() == pbf_wire_type::length_delimited) {
    auto range = r.get_packed_int64();
    size_t n = 0;
    for (auto it = range.begin(); it != range.end(); ++it) ++n;
    return n;
  }
  if (r.wire_type() != pbf_wire_type::varint) throw Invalid{"Sample.value has a bad wire type"};
  r.skip();
  return 1;
}

}  // namespace

Status check_pprof(std::string_view pprof) {
  if (pprof.empty()) return Status::invalid_argument("invalid pprof: empty profile");
  try {
    protozero::pbf_reader r(pprof.data(), pprof.size());
    size_t sample_types = 0;
    size_t strings = 0;
    bool first_string_empty = false;
    std::vector<size_t> sample_value_counts;
    while (r.next()) {
      uint32_t tag = r.tag();
      auto wt = r.wire_type();
      switch (tag) {
        case 1:   // sample_type
        case 3:   // mapping
        case 4:   // location
        case 5:   // function
        case 11:  // period_type
          if (wt != pbf_wire_type::length_delimited)
            throw Invalid{"bad wire type for field " + std::to_string(tag)};
          check_message(r.get_message());
          if (tag == 1) ++sample_types;
          break;
        case 2: {  // sample
          if (wt != pbf_wire_type::length_delimited) throw Invalid{"bad wire type for Sample"};
          protozero::pbf_reader s = r.get_message();
          size_t values = 0;
          while (s.next()) {
            if (s.tag() == 2) {
              values += count_packed_or_single(s);
            } else {
              s.skip();
            }
          }
          sample_value_counts.push_back(values);
          break;
        }
        case 6: {  // string_table
          if (wt != pbf_wire_type::length_delimited)
            throw Invalid{"bad wire type for string_table"};
          auto v = r.get_view();
          if (strings == 0) first_string_empty = v.size() == 0;
          ++strings;
          break;
        }
        case 7:
        case 8:
        case 9:
        case 10:
        case 12:
        case 14:
          if (wt != pbf_wire_type::varint)
            throw Invalid{"bad wire type for field " + std::to_string(tag)};
          r.skip();
          break;
        default:
          r.skip();
      }
    }
    if (strings == 0 || !first_string_empty) {
      return Status::invalid_argument("invalid pprof: string_table must start with \"\"");
    }
    if (sample_types == 0) return Status::invalid_argument("invalid pprof: no sample_type");
    for (size_t i = 0; i < sample_value_counts.size(); ++i) {
      if (sample_value_counts[i] != sample_types) {
        return Status::invalid_argument("invalid pprof: sample " + std::to_string(i) + " has " +
                                        std::to_string(sample_value_counts[i]) + " values for " +
                                        std::to_string(sample_types) + " sample types");
      }
    }
  } catch (const Invalid& e) {
    return Status::invalid_argument("invalid pprof: " + e.what);
  } catch (const protozero::exception& e) {
    return Status::invalid_argument(std::string("invalid pprof: malformed protobuf (") + e.what() +
                                    ")");
  }
  return {};
}

}  // namespace pyrometer::server::ingest
