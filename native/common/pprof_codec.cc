// pprof Profile wire codec on protozero (see pprof_codec.h); field numbers
// from google/pprof proto/profile.proto, listed in docs/format/pprof.md.
#include "common/pprof_codec.h"

#include "common/proto_decode.h"
#include "common/proto_encode.h"

namespace pyrometer::common::pprof {

using protozero::pbf_reader;
using protozero::pbf_writer;

namespace {

template <typename T, typename Fn>
void decode_repeated(pbf_reader& r, proto::DecodePath& p, const char* name, std::vector<T>* out,
                     Fn&& decode_one) {
  pbf_reader sub = proto::read_message(r, p, name);
  p.enter(name, out->size());
  decode_one(sub, p, &out->emplace_back());
  p.leave();
}

void decode_value_type(pbf_reader r, proto::DecodePath& p, ValueType* out) {
  while (proto::next_field(r, p)) {
    switch (r.tag()) {
      case 1:
        out->type = proto::read_int64(r, p, "type");
        break;
      case 2:
        out->unit = proto::read_int64(r, p, "unit");
        break;
      default:
        r.skip();
    }
  }
}

void decode_label(pbf_reader r, proto::DecodePath& p, Label* out) {
  while (proto::next_field(r, p)) {
    switch (r.tag()) {
      case 1:
        out->key = proto::read_int64(r, p, "key");
        break;
      case 2:
        out->str = proto::read_int64(r, p, "str");
        break;
      case 3:
        out->num = proto::read_int64(r, p, "num");
        break;
      case 4:
        out->num_unit = proto::read_int64(r, p, "num_unit");
        break;
      default:
        r.skip();
    }
  }
}

void decode_sample(pbf_reader r, proto::DecodePath& p, Sample* out) {
  while (proto::next_field(r, p)) {
    switch (r.tag()) {
      case 1:
        proto::append_uint64s(r, p, "location_id", &out->location_id);
        break;
      case 2:
        proto::append_int64s(r, p, "value", &out->value);
        break;
      case 3:
        decode_repeated(r, p, "label", &out->label, decode_label);
        break;
      default:
        r.skip();
    }
  }
}

void decode_mapping(pbf_reader r, proto::DecodePath& p, Mapping* out) {
  while (proto::next_field(r, p)) {
    switch (r.tag()) {
      case 1:
        out->id = proto::read_uint64(r, p, "id");
        break;
      case 2:
        out->memory_start = proto::read_uint64(r, p, "memory_start");
        break;
      case 3:
        out->memory_limit = proto::read_uint64(r, p, "memory_limit");
        break;
      case 4:
        out->file_offset = proto::read_uint64(r, p, "file_offset");
        break;
      case 5:
        out->filename = proto::read_int64(r, p, "filename");
        break;
      case 6:
        out->build_id = proto::read_int64(r, p, "build_id");
        break;
      case 7:
        out->has_functions = proto::read_bool(r, p, "has_functions");
        break;
      case 8:
        out->has_filenames = proto::read_bool(r, p, "has_filenames");
        break;
      case 9:
        out->has_line_numbers = proto::read_bool(r, p, "has_line_numbers");
        break;
      case 10:
        out->has_inline_frames = proto::read_bool(r, p, "has_inline_frames");
        break;
      default:
        r.skip();
    }
  }
}

void decode_line(pbf_reader r, proto::DecodePath& p, Line* out) {
  while (proto::next_field(r, p)) {
    switch (r.tag()) {
      case 1:
        out->function_id = proto::read_uint64(r, p, "function_id");
        break;
      case 2:
        out->line = proto::read_int64(r, p, "line");
        break;
      case 3:
        out->column = proto::read_int64(r, p, "column");
        break;
      default:
        r.skip();
    }
  }
}

void decode_location(pbf_reader r, proto::DecodePath& p, Location* out) {
  while (proto::next_field(r, p)) {
    switch (r.tag()) {
      case 1:
        out->id = proto::read_uint64(r, p, "id");
        break;
      case 2:
        out->mapping_id = proto::read_uint64(r, p, "mapping_id");
        break;
      case 3:
        out->address = proto::read_uint64(r, p, "address");
        break;
      case 4:
        decode_repeated(r, p, "line", &out->line, decode_line);
        break;
      case 5:
        out->is_folded = proto::read_bool(r, p, "is_folded");
        break;
      default:
        r.skip();
    }
  }
}

void decode_function(pbf_reader r, proto::DecodePath& p, Function* out) {
  while (proto::next_field(r, p)) {
    switch (r.tag()) {
      case 1:
        out->id = proto::read_uint64(r, p, "id");
        break;
      case 2:
        out->name = proto::read_int64(r, p, "name");
        break;
      case 3:
        out->system_name = proto::read_int64(r, p, "system_name");
        break;
      case 4:
        out->filename = proto::read_int64(r, p, "filename");
        break;
      case 5:
        out->start_line = proto::read_int64(r, p, "start_line");
        break;
      default:
        r.skip();
    }
  }
}

void decode_profile_body(pbf_reader& r, proto::DecodePath& p, Profile* out) {
  while (proto::next_field(r, p)) {
    switch (r.tag()) {
      case 1:
        decode_repeated(r, p, "sample_type", &out->sample_type, decode_value_type);
        break;
      case 2:
        decode_repeated(r, p, "sample", &out->sample, decode_sample);
        break;
      case 3:
        decode_repeated(r, p, "mapping", &out->mapping, decode_mapping);
        break;
      case 4:
        decode_repeated(r, p, "location", &out->location, decode_location);
        break;
      case 5:
        decode_repeated(r, p, "function", &out->function, decode_function);
        break;
      case 6: {
        const std::string_view s = proto::read_bytes(r, p, "string_table");
        out->string_table.emplace_back(s);
        break;
      }
      case 7:
        out->drop_frames = proto::read_int64(r, p, "drop_frames");
        break;
      case 8:
        out->keep_frames = proto::read_int64(r, p, "keep_frames");
        break;
      case 9:
        out->time_nanos = proto::read_int64(r, p, "time_nanos");
        break;
      case 10:
        out->duration_nanos = proto::read_int64(r, p, "duration_nanos");
        break;
      case 11: {
        pbf_reader sub = proto::read_message(r, p, "period_type");
        p.enter("period_type", proto::DecodePath::kNoIndex);
        decode_value_type(sub, p, &out->period_type);
        p.leave();
        break;
      }
      case 12:
        out->period = proto::read_int64(r, p, "period");
        break;
      case 13:
        proto::append_int64s(r, p, "comment", &out->comment);
        break;
      case 14:
        out->default_sample_type = proto::read_int64(r, p, "default_sample_type");
        break;
      default:
        r.skip();
    }
  }
}

void put_int64(pbf_writer& m, uint32_t tag, int64_t v) {
  if (v != 0) m.add_int64(tag, v);
}
void put_uint64(pbf_writer& m, uint32_t tag, uint64_t v) {
  if (v != 0) m.add_uint64(tag, v);
}
void put_bool(pbf_writer& m, uint32_t tag, bool v) {
  if (v) m.add_bool(tag, true);
}

void encode_value_type(pbf_writer& m, const ValueType& v) {
  put_int64(m, 1, v.type);
  put_int64(m, 2, v.unit);
}

}  // namespace

Status decode_profile(std::string_view data, Profile* out) {
  Status st = proto::decode_status(
      data, "Profile", kMaxNesting,
      [&](pbf_reader& r, proto::DecodePath& p) { decode_profile_body(r, p, out); });
  if (!st.ok()) return st;
  return validate_profile(*out);
}

void encode_profile(const Profile& pr, std::string* out) {
  const proto::Writer w{out};
  pbf_writer m(*out);
  for (const ValueType& v : pr.sample_type) {
    proto::write_message(m, w, 1, /*keep_empty=*/true,
                         [&](pbf_writer& vm) { encode_value_type(vm, v); });
  }
  for (const Sample& s : pr.sample) {
    proto::write_message(m, w, 2, /*keep_empty=*/true, [&](pbf_writer& sm) {
      sm.add_packed_uint64(1, s.location_id.begin(), s.location_id.end());
      sm.add_packed_int64(2, s.value.begin(), s.value.end());
      for (const Label& l : s.label) {
        proto::write_message(sm, w, 3, /*keep_empty=*/true, [&](pbf_writer& lm) {
          put_int64(lm, 1, l.key);
          put_int64(lm, 2, l.str);
          put_int64(lm, 3, l.num);
          put_int64(lm, 4, l.num_unit);
        });
      }
    });
  }
  for (const Mapping& mp : pr.mapping) {
    proto::write_message(m, w, 3, /*keep_empty=*/true, [&](pbf_writer& mm) {
      put_uint64(mm, 1, mp.id);
      put_uint64(mm, 2, mp.memory_start);
      put_uint64(mm, 3, mp.memory_limit);
      put_uint64(mm, 4, mp.file_offset);
      put_int64(mm, 5, mp.filename);
      put_int64(mm, 6, mp.build_id);
      put_bool(mm, 7, mp.has_functions);
      put_bool(mm, 8, mp.has_filenames);
      put_bool(mm, 9, mp.has_line_numbers);
      put_bool(mm, 10, mp.has_inline_frames);
    });
  }
  for (const Location& loc : pr.location) {
    proto::write_message(m, w, 4, /*keep_empty=*/true, [&](pbf_writer& lm) {
      put_uint64(lm, 1, loc.id);
      put_uint64(lm, 2, loc.mapping_id);
      put_uint64(lm, 3, loc.address);
      for (const Line& ln : loc.line) {
        proto::write_message(lm, w, 4, /*keep_empty=*/true, [&](pbf_writer& nm) {
          put_uint64(nm, 1, ln.function_id);
          put_int64(nm, 2, ln.line);
          put_int64(nm, 3, ln.column);
        });
      }
      put_bool(lm, 5, loc.is_folded);
    });
  }
  for (const Function& f : pr.function) {
    proto::write_message(m, w, 5, /*keep_empty=*/true, [&](pbf_writer& fm) {
      put_uint64(fm, 1, f.id);
      put_int64(fm, 2, f.name);
      put_int64(fm, 3, f.system_name);
      put_int64(fm, 4, f.filename);
      put_int64(fm, 5, f.start_line);
    });
  }
  // Every string is written, "" included: positions are the indices.
  for (const std::string& s : pr.string_table) m.add_string(6, s);
  put_int64(m, 7, pr.drop_frames);
  put_int64(m, 8, pr.keep_frames);
  put_int64(m, 9, pr.time_nanos);
  put_int64(m, 10, pr.duration_nanos);
  proto::write_message(m, w, 11, /*keep_empty=*/false,
                       [&](pbf_writer& vm) { encode_value_type(vm, pr.period_type); });
  put_int64(m, 12, pr.period);
  m.add_packed_int64(13, pr.comment.begin(), pr.comment.end());
  put_int64(m, 14, pr.default_sample_type);
}

}  // namespace pyrometer::common::pprof
