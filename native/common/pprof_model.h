// In-memory model of the pprof Profile message (perftools.profiles, google/pprof
// proto/profile.proto): what the agent's profilers emit and the server ingests.
//
// Field names and numbers follow profile.proto exactly; docs/format/pprof.md
// says what Pyrometer uses. All "string" fields are int64 indices into
// string_table (string_table[0] is ""); ids are the message's own uint64 ids.
// Unlike the OTLP model, strings are owned: profiles are built incrementally
// by the agent and are small next to span traffic.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pyrometer::common::pprof {

struct ValueType {
  int64_t type = 0;  // string index, e.g. "cpu"
  int64_t unit = 0;  // string index, e.g. "nanoseconds"
};

struct Label {
  int64_t key = 0;       // string index
  int64_t str = 0;       // string index (string label)
  int64_t num = 0;       // numeric label
  int64_t num_unit = 0;  // string index
};

struct Sample {
  std::vector<uint64_t> location_id;  // leaf first
  std::vector<int64_t> value;         // one per Profile::sample_type
  std::vector<Label> label;
};

struct Mapping {
  uint64_t id = 0;
  uint64_t memory_start = 0;
  uint64_t memory_limit = 0;
  uint64_t file_offset = 0;
  int64_t filename = 0;  // string index
  int64_t build_id = 0;  // string index
  bool has_functions = false;
  bool has_filenames = false;
  bool has_line_numbers = false;
  bool has_inline_frames = false;
};

struct Line {
  uint64_t function_id = 0;
  int64_t line = 0;
  int64_t column = 0;
};

struct Location {
  uint64_t id = 0;
  uint64_t mapping_id = 0;
  uint64_t address = 0;
  std::vector<Line> line;  // inlined callees first, caller last
  bool is_folded = false;
};

struct Function {
  uint64_t id = 0;
  int64_t name = 0;         // string index
  int64_t system_name = 0;  // string index
  int64_t filename = 0;     // string index
  int64_t start_line = 0;
};

struct Profile {
  std::vector<ValueType> sample_type;
  std::vector<Sample> sample;
  std::vector<Mapping> mapping;
  std::vector<Location> location;
  std::vector<Function> function;
  std::vector<std::string> string_table;
  int64_t drop_frames = 0;  // string index
  int64_t keep_frames = 0;  // string index
  int64_t time_nanos = 0;
  int64_t duration_nanos = 0;
  ValueType period_type;
  int64_t period = 0;
  std::vector<int64_t> comment;     // string indices
  int64_t default_sample_type = 0;  // string index
};

}  // namespace pyrometer::common::pprof
