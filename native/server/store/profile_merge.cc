// pprof decoding (profile.proto: sample_type=1, sample=2, location=4,
// function=5, string_table=6) with protozero, and the merged-row payload.
#include "server/store/profile_merge.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <protozero/pbf_reader.hpp>
#include <set>

#include "server/store/column_codec.h"
#include "server/store/rollup.h"

namespace pyrometer::server::store {
namespace {

std::vector<std::string> split_frames(const std::string& stack) {
  std::vector<std::string> out;
  size_t b = 0;
  while (b <= stack.size() && !stack.empty()) {
    size_t e = stack.find('\n', b);
    if (e == std::string::npos) e = stack.size();
    out.emplace_back(stack.substr(b, e - b));
    b = e + 1;
  }
  return out;
}

// Lower- or upper-case hex of exactly `bytes` bytes → raw; false otherwise.
bool unhex(std::string_view hex, size_t bytes, std::string* out) {
  if (hex.size() != bytes * 2) return false;
  out->resize(bytes);
  for (size_t i = 0; i < bytes; ++i) {
    int v = 0;
    for (char ch : {hex[2 * i], hex[2 * i + 1]}) {
      int d = ch >= '0' && ch <= '9'   ? ch - '0'
              : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
              : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                       : -1;
      if (d < 0) return false;
      v = v * 16 + d;
    }
    (*out)[i] = static_cast<char>(v);
  }
  return true;
}

std::string join_frames(const std::vector<std::string>& frames) {
  std::string s;
  for (size_t i = 0; i < frames.size(); ++i) {
    if (i) s.push_back('\n');
    s += frames[i];
  }
  return s;
}

}  // namespace

void ProfileSet::add_stack(Entry* e, std::string stack, const std::vector<int64_t>& values) {
  if (e->stacks.size() >= kProfileMaxStacksPerRow && !e->stacks.count(stack)) stack = "[truncated]";
  auto [it, inserted] = e->stacks.try_emplace(std::move(stack));
  if (inserted) bytes_ += it->first.size() + 64 + values.size() * 8;
  if (it->second.size() < values.size()) it->second.resize(values.size(), 0);
  for (size_t i = 0; i < values.size(); ++i) it->second[i] += values[i];
}

Status ProfileSet::add_pprof(std::string_view pprof, const ProfileLabels& labels) {
  struct Loc {
    std::vector<std::pair<uint64_t, int64_t>> lines;  // function id, line
  };
  struct Fn {
    uint64_t name = 0, file = 0;
  };
  std::vector<std::string_view> strings;
  std::vector<std::pair<uint64_t, uint64_t>> sample_types;
  struct RawSample {
    std::vector<uint64_t> loc_ids;
    std::vector<int64_t> values;
    std::vector<std::pair<uint64_t, uint64_t>> labels;  // (key, str) string indexes
  };
  std::vector<RawSample> samples;
  std::vector<std::pair<uint64_t, uint64_t>> cur_labels;  // (key, str) of the current sample
  std::unordered_map<uint64_t, Loc> locs;
  std::unordered_map<uint64_t, Fn> fns;
  try {
    protozero::pbf_reader p(pprof.data(), pprof.size());
    while (p.next()) {
      switch (p.tag()) {
        case 1: {
          protozero::pbf_reader vt = p.get_message();
          uint64_t type = 0, unit = 0;
          while (vt.next()) {
            if (vt.tag() == 1)
              type = static_cast<uint64_t>(vt.get_int64());
            else if (vt.tag() == 2)
              unit = static_cast<uint64_t>(vt.get_int64());
            else
              vt.skip();
          }
          sample_types.emplace_back(type, unit);
          break;
        }
        case 2: {
          protozero::pbf_reader s = p.get_message();
          std::vector<uint64_t> loc_ids;
          std::vector<int64_t> values;
          cur_labels.clear();
          while (s.next()) {
            if (s.tag() == 1) {
              if (s.wire_type() == protozero::pbf_wire_type::length_delimited) {
                for (uint64_t id : s.get_packed_uint64()) loc_ids.push_back(id);
              } else {
                loc_ids.push_back(s.get_uint64());
              }
            } else if (s.tag() == 2) {
              if (s.wire_type() == protozero::pbf_wire_type::length_delimited) {
                for (int64_t v : s.get_packed_int64()) values.push_back(v);
              } else {
                values.push_back(s.get_int64());
              }
            } else if (s.tag() == 3) {
              protozero::pbf_reader label = s.get_message();
              uint64_t key = 0, str = 0;
              while (label.next()) {
                if (label.tag() == 1)
                  key = static_cast<uint64_t>(label.get_int64());
                else if (label.tag() == 2)
                  str = static_cast<uint64_t>(label.get_int64());
                else
                  label.skip();
              }
              cur_labels.emplace_back(key, str);
            } else {
              s.skip();
            }
          }
          // Label keys are resolved once the string table (often last) is read.
          samples.push_back({std::move(loc_ids), std::move(values), cur_labels});
          break;
        }
        case 4: {
          protozero::pbf_reader l = p.get_message();
          uint64_t id = 0;
          Loc loc;
          while (l.next()) {
            if (l.tag() == 1) {
              id = l.get_uint64();
            } else if (l.tag() == 4) {
              protozero::pbf_reader line = l.get_message();
              uint64_t fn = 0;
              int64_t no = 0;
              while (line.next()) {
                if (line.tag() == 1)
                  fn = line.get_uint64();
                else if (line.tag() == 2)
                  no = line.get_int64();
                else
                  line.skip();
              }
              loc.lines.emplace_back(fn, no);
            } else {
              l.skip();
            }
          }
          locs[id] = std::move(loc);
          break;
        }
        case 5: {
          protozero::pbf_reader f = p.get_message();
          uint64_t id = 0;
          Fn fn;
          while (f.next()) {
            if (f.tag() == 1)
              id = f.get_uint64();
            else if (f.tag() == 2)
              fn.name = static_cast<uint64_t>(f.get_int64());
            else if (f.tag() == 4)
              fn.file = static_cast<uint64_t>(f.get_int64());
            else
              f.skip();
          }
          fns[id] = fn;
          break;
        }
        case 6: {
          auto v = p.get_view();
          strings.emplace_back(v.data(), v.size());
          break;
        }
        default:
          p.skip();
      }
    }
  } catch (const std::exception& e) {
    return Status::invalid_argument(std::string("malformed pprof: ") + e.what());
  }
  auto str = [&](uint64_t i) { return i < strings.size() ? strings[i] : std::string_view(); };
  Key key{labels.time_unix_nano / kMinuteNanos * kMinuteNanos, labels.service, labels.route,
          labels.profile_type};
  auto [it, inserted] = rows_.try_emplace(key);
  Entry& e = it->second;
  if (inserted) {
    bytes_ += 256;
    for (auto [t, u] : sample_types)
      e.value_types.push_back(std::string(str(t)) + "/" + std::string(str(u)));
  }
  e.uploads++;
  std::string stack;
  // A sample's weight in the trace index: its first value when that is a
  // count (the agent's [samples, count] / [allocations, count]), else 1.
  bool first_is_count = !sample_types.empty() && str(sample_types[0].second) == "count";
  std::string trace_raw, span_raw;
  for (const auto& [loc_ids, values, sample_labels] : samples) {
    stack.clear();
    // pprof lists the leaf first, and inlined callees before their caller
    // inside one location; we store root first.
    for (auto lit = loc_ids.rbegin(); lit != loc_ids.rend(); ++lit) {
      auto l = locs.find(*lit);
      if (l == locs.end()) continue;
      for (auto ln = l->second.lines.rbegin(); ln != l->second.lines.rend(); ++ln) {
        auto f = fns.find(ln->first);
        if (!stack.empty()) stack.push_back('\n');
        if (f == fns.end()) {
          stack += "?";
          continue;
        }
        stack += str(f->second.name);
        stack.push_back(' ');
        stack += str(f->second.file);
        stack.push_back(':');
        stack += std::to_string(ln->second);
      }
    }
    add_stack(&e, stack, values);
    std::string_view trace_hex, span_hex;
    for (auto [k, v] : sample_labels) {
      std::string_view key = str(k);
      if (key == "trace_id") trace_hex = str(v);
      if (key == "span_id") span_hex = str(v);
    }
    if (trace_hex.empty() || span_hex.empty()) continue;
    if (!unhex(trace_hex, 16, &trace_raw) || !unhex(span_hex, 8, &span_raw)) {
      ++unindexed_;  // labels that are not W3C ids cannot name a stored span
      continue;
    }
    int64_t count = first_is_count && !values.empty() ? values[0] : 1;
    index_sample(trace_raw, span_raw, labels, stack, count);
  }
  return Status::ok_status();
}

void ProfileSet::index_sample(std::string_view trace_id, std::string_view span_id,
                              const ProfileLabels& l, std::string_view stack, int64_t count) {
  uint64_t minute = l.time_unix_nano / kMinuteNanos * kMinuteNanos;
  if (traces_.add(trace_id, span_id, l.service, l.profile_type, minute, stack, count)) return;
  ++unindexed_;
  static std::atomic<bool> reported{false};
  if (!reported.exchange(true)) {
    std::fprintf(stderr,
                 "pyrometer-server: profile trace index full (%zu traces or %zu spans per trace "
                 "per block); further span-labelled samples stay in the merged profiles only "
                 "(reported once)\n",
                 kProfileMaxTraces, kProfileMaxSpansPerTrace);
  }
}

void ProfileSet::merge(const ProfileRow& row) {
  if (!row.trace_id.empty()) {
    ProfileLabels l;
    l.service = row.service;
    l.profile_type = row.profile_type;
    l.time_unix_nano = row.minute_unix_nano;
    for (const auto& s : row.samples) {
      index_sample(row.trace_id, row.span_id, l, join_frames(s.frames),
                   s.values.empty() ? 0 : s.values[0]);
    }
    return;
  }
  Key key{row.minute_unix_nano, row.service, row.route, row.profile_type};
  auto [it, inserted] = rows_.try_emplace(key);
  if (inserted) {
    bytes_ += 256;
    it->second.value_types = row.value_types;
  }
  it->second.uploads += row.uploads;
  for (const auto& s : row.samples) add_stack(&it->second, join_frames(s.frames), s.values);
}

void ProfileSet::merge_all(const ProfileSet& other) {
  std::vector<ProfileRow> rows;
  other.collect(ProfileFilter(), &rows);
  for (const auto& r : rows) merge(r);
  traces_.merge_all(other.traces_);
}

void ProfileSet::collect(const ProfileFilter& f, std::vector<ProfileRow>* out) const {
  if (!f.trace_id.empty()) {
    traces_.collect(f.trace_id, f.profile_type, out);
    return;
  }
  for (const auto& [k, e] : rows_) {
    const auto& [minute, service, route, type] = k;
    if (minute + kMinuteNanos <= f.start_unix_nano || minute >= f.end_unix_nano) continue;
    if (!f.service.empty() && service != f.service) continue;
    if (!f.route.empty() && route != f.route) continue;
    if (!f.profile_type.empty() && type != f.profile_type) continue;
    ProfileRow row;
    row.minute_unix_nano = minute;
    row.service = service;
    row.route = route;
    row.profile_type = type;
    row.value_types = e.value_types;
    row.uploads = e.uploads;
    for (const auto& [stack, values] : e.stacks)
      row.samples.push_back({split_frames(stack), values});
    std::sort(row.samples.begin(), row.samples.end(),
              [](const ProfileSample& a, const ProfileSample& b) { return a.frames < b.frames; });
    out->push_back(std::move(row));
  }
}

uint64_t ProfileSet::min_minute() const {
  return rows_.empty() ? 0 : std::get<0>(rows_.begin()->first);
}
uint64_t ProfileSet::max_minute() const {
  return rows_.empty() ? 0 : std::get<0>(rows_.rbegin()->first);
}

void ProfileSet::serialize(std::string* out, bool with_trace_index) const {
  // Frames are dictionary-encoded: a profile repeats the same few hundred frames.
  Dictionary dict;
  std::string body;
  put_varint(&body, rows_.size());
  for (const auto& [k, e] : rows_) {
    const auto& [minute, service, route, type] = k;
    put_varint(&body, minute / kMinuteNanos);
    put_bytes(&body, service);
    put_bytes(&body, route);
    put_bytes(&body, type);
    put_varint(&body, static_cast<uint64_t>(e.uploads));
    put_varint(&body, e.value_types.size());
    for (const auto& vt : e.value_types) put_bytes(&body, vt);
    put_varint(&body, e.stacks.size());
    for (const auto& [stack, values] : e.stacks) {
      auto frames = split_frames(stack);
      put_varint(&body, frames.size());
      for (const auto& f : frames) put_varint(&body, dict.intern(f));
      put_varint(&body, values.size());
      for (int64_t v : values) put_varint(&body, zigzag(v));
    }
  }
  // The trace index follows the rows (absent in files written before it);
  // its strings share the dictionary, so it is built before the dictionary
  // is written.
  std::string section;
  if (with_trace_index) traces_.serialize(&dict, &section);
  std::string d;
  dict.serialize(&d);
  out->push_back('\0');  // v2 marker: a v1 file starts with a non-empty dictionary's length
  put_varint(out, kProfileFileVersion);
  put_bytes(out, d);
  put_bytes(out, body);
  out->append(section);
}

Status ProfileSet::parse(std::string_view in) {
  ByteReader r(in);
  bool v2 = !in.empty() && in[0] == '\0';
  if (v2) {
    std::string_view marker;
    uint64_t version = 0;
    if (!r.raw(1, &marker) || !r.varint(&version) || version != kProfileFileVersion) {
      return Status::corruption("profile file version");
    }
  }
  std::string_view dbytes;
  Dictionary dict;
  if (!r.bytes(&dbytes) || !dict.parse(dbytes).ok())
    return Status::corruption("profile dictionary");
  Status s;
  if (v2) {
    std::string_view body;
    if (!r.bytes(&body)) return Status::corruption("profile rows length");
    if (trace_only_.empty()) {
      ByteReader rows(body);
      s = parse_rows(&rows, dict);
      if (s.ok() && !rows.done()) s = Status::corruption("profile rows: trailing bytes");
    }
  } else {
    s = parse_rows(&r, dict);
  }
  if (!s.ok()) return s;
  if (!r.done()) return traces_.parse(&r, dict, trace_only_);
  return Status::ok_status();
}

Status ProfileSet::parse_rows(ByteReader* reader, const Dictionary& dict) {
  ByteReader& r = *reader;
  uint64_t n;
  if (!r.varint(&n)) return Status::corruption("profile count");
  for (uint64_t i = 0; i < n; ++i) {
    ProfileRow row;
    uint64_t minute, uploads, nvt, ns;
    std::string_view service, route, type;
    if (!r.varint(&minute) || !r.bytes(&service) || !r.bytes(&route) || !r.bytes(&type) ||
        !r.varint(&uploads) || !r.varint(&nvt) || nvt > 64) {
      return Status::corruption("profile row header");
    }
    row.minute_unix_nano = minute * kMinuteNanos;
    row.service.assign(service);
    row.route.assign(route);
    row.profile_type.assign(type);
    row.uploads = static_cast<int64_t>(uploads);
    for (uint64_t j = 0; j < nvt; ++j) {
      std::string_view vt;
      if (!r.bytes(&vt)) return Status::corruption("profile value type");
      row.value_types.emplace_back(vt);
    }
    if (!r.varint(&ns)) return Status::corruption("profile stacks");
    for (uint64_t j = 0; j < ns; ++j) {
      ProfileSample s;
      uint64_t nf, nv, x;
      if (!r.varint(&nf) || nf > 4096) return Status::corruption("profile frames");
      for (uint64_t f = 0; f < nf; ++f) {
        if (!r.varint(&x) || x >= dict.size()) return Status::corruption("profile frame id");
        s.frames.emplace_back(dict.at(static_cast<uint32_t>(x)));
      }
      if (!r.varint(&nv) || nv > 64) return Status::corruption("profile values");
      for (uint64_t v = 0; v < nv; ++v) {
        if (!r.varint(&x)) return Status::corruption("profile value");
        s.values.push_back(unzigzag(x));
      }
      row.samples.push_back(std::move(s));
    }
    merge(row);
  }
  return Status::ok_status();
}

void merge_profile_rows(std::vector<ProfileRow>* rows) {
  ProfileSet set;
  std::set<std::string> traces;
  bool merged_rows = false;
  for (const auto& r : *rows) {
    set.merge(r);
    if (r.trace_id.empty()) {
      merged_rows = true;
    } else {
      traces.insert(r.trace_id);
    }
  }
  rows->clear();
  if (merged_rows) set.collect(ProfileFilter(), rows);
  for (const auto& t : traces) {
    ProfileFilter f;
    f.trace_id = t;
    set.collect(f, rows);
  }
}

}  // namespace pyrometer::server::store
