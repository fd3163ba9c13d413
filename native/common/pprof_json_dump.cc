// Canonical JSON dump of a pprof Profile (see pprof_json_dump.h).
#include "common/pprof_json_dump.h"

#include <type_traits>

#include "common/debug_json_writer.h"

namespace pyrometer::common::pprof {

namespace {

using W = DebugJsonWriter;

void value_type(W& w, const ValueType& v) {
  w.begin_object();
  w.field_int("type", v.type);
  w.field_int("unit", v.unit);
  w.end_object();
}

template <typename T>
void ints(W& w, std::string_view name, const std::vector<T>& values) {
  w.key(name);
  w.begin_array();
  for (T v : values) {
    if constexpr (std::is_signed_v<T>) {
      w.value_int(v);
    } else {
      w.value_uint(v);
    }
  }
  w.end_array();
}

}  // namespace

std::string dump_json(const Profile& p) {
  std::string out;
  W w(&out);
  w.begin_object();
  w.key("sample_type");
  w.begin_array();
  for (const ValueType& v : p.sample_type) value_type(w, v);
  w.end_array();
  w.key("sample");
  w.begin_array();
  for (const Sample& s : p.sample) {
    w.begin_object();
    ints(w, "location_id", s.location_id);
    ints(w, "value", s.value);
    w.key("label");
    w.begin_array();
    for (const Label& l : s.label) {
      w.begin_object();
      w.field_int("key", l.key);
      w.field_int("str", l.str);
      w.field_int("num", l.num);
      w.field_int("num_unit", l.num_unit);
      w.end_object();
    }
    w.end_array();
    w.end_object();
  }
  w.end_array();
  w.key("mapping");
  w.begin_array();
  for (const Mapping& m : p.mapping) {
    w.begin_object();
    w.field_uint("id", m.id);
    w.field_uint("memory_start", m.memory_start);
    w.field_uint("memory_limit", m.memory_limit);
    w.field_uint("file_offset", m.file_offset);
    w.field_int("filename", m.filename);
    w.field_int("build_id", m.build_id);
    w.field_bool("has_functions", m.has_functions);
    w.field_bool("has_filenames", m.has_filenames);
    w.field_bool("has_line_numbers", m.has_line_numbers);
    w.field_bool("has_inline_frames", m.has_inline_frames);
    w.end_object();
  }
  w.end_array();
  w.key("location");
  w.begin_array();
  for (const Location& l : p.location) {
    w.begin_object();
    w.field_uint("id", l.id);
    w.field_uint("mapping_id", l.mapping_id);
    w.field_uint("address", l.address);
    w.key("line");
    w.begin_array();
    for (const Line& ln : l.line) {
      w.begin_object();
      w.field_uint("function_id", ln.function_id);
      w.field_int("line", ln.line);
      w.field_int("column", ln.column);
      w.end_object();
    }
    w.end_array();
    w.field_bool("is_folded", l.is_folded);
    w.end_object();
  }
  w.end_array();
  w.key("function");
  w.begin_array();
  for (const Function& f : p.function) {
    w.begin_object();
    w.field_uint("id", f.id);
    w.field_int("name", f.name);
    w.field_int("system_name", f.system_name);
    w.field_int("filename", f.filename);
    w.field_int("start_line", f.start_line);
    w.end_object();
  }
  w.end_array();
  w.key("string_table");
  w.begin_array();
  for (const std::string& s : p.string_table) w.value_string(s);
  w.end_array();
  w.field_int("drop_frames", p.drop_frames);
  w.field_int("keep_frames", p.keep_frames);
  w.field_int("time_nanos", p.time_nanos);
  w.field_int("duration_nanos", p.duration_nanos);
  w.key("period_type");
  value_type(w, p.period_type);
  w.field_int("period", p.period);
  ints(w, "comment", p.comment);
  w.field_int("default_sample_type", p.default_sample_type);
  w.end_object();
  return out;
}

}  // namespace pyrometer::common::pprof
