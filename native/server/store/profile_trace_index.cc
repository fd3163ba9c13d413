// The per-trace profile index: bounded maps of stack counts, and their
// dictionary-coded section in the block's profiles file.
#include "server/store/profile_trace_index.h"

#include <algorithm>

#include "server/store/rollup.h"

namespace pyrometer::server::store {

namespace {

std::vector<std::string_view> split(std::string_view stack) {
  std::vector<std::string_view> out;
  if (stack.empty()) return out;
  size_t b = 0;
  while (true) {
    size_t e = stack.find('\n', b);
    out.push_back(stack.substr(b, e == std::string_view::npos ? std::string_view::npos : e - b));
    if (e == std::string_view::npos) return out;
    b = e + 1;
  }
}

}  // namespace

bool ProfileTraceIndex::add(std::string_view trace_id, std::string_view span_id,
                            std::string_view service, std::string_view type,
                            uint64_t minute_unix_nano, std::string_view stack, int64_t count) {
  auto t = traces_.find(std::string(trace_id));
  if (t == traces_.end()) {
    if (traces_.size() >= kProfileMaxTraces) return false;
    t = traces_.try_emplace(std::string(trace_id)).first;
    bytes_ += 96;
  }
  auto key = std::make_pair(std::string(span_id), std::string(type));
  auto s = t->second.find(key);
  if (s == t->second.end()) {
    if (t->second.size() >= kProfileMaxSpansPerTrace) return false;
    s = t->second.try_emplace(std::move(key)).first;
    s->second.service.assign(service);
    s->second.minute_unix_nano = minute_unix_nano;
    bytes_ += 160 + service.size();
  }
  auto& stacks = s->second.stacks;
  std::string k(stack);
  if (stacks.size() >= kProfileMaxStacksPerSpan && !stacks.count(k)) k = "[truncated]";
  auto [it, inserted] = stacks.try_emplace(std::move(k), 0);
  if (inserted) bytes_ += it->first.size() + 48;
  it->second += count;
  return true;
}

void ProfileTraceIndex::merge_all(const ProfileTraceIndex& other) {
  for (const auto& [trace, spans] : other.traces_) {
    for (const auto& [key, e] : spans) {
      for (const auto& [stack, count] : e.stacks) {
        add(trace, key.first, e.service, key.second, e.minute_unix_nano, stack, count);
      }
    }
  }
}

void ProfileTraceIndex::collect(std::string_view trace_id, std::string_view type,
                                std::vector<ProfileRow>* out) const {
  auto t = traces_.find(std::string(trace_id));
  if (t == traces_.end()) return;
  for (const auto& [key, e] : t->second) {
    if (!type.empty() && key.second != type) continue;
    ProfileRow row;
    row.minute_unix_nano = e.minute_unix_nano;
    row.service = e.service;
    row.profile_type = key.second;
    row.value_types = {"samples/count"};
    row.trace_id.assign(trace_id);
    row.span_id = key.first;
    for (const auto& [stack, count] : e.stacks) {
      ProfileSample s;
      for (std::string_view f : split(stack)) s.frames.emplace_back(f);
      s.values = {count};
      row.samples.push_back(std::move(s));
    }
    out->push_back(std::move(row));
  }
}

void ProfileTraceIndex::serialize(Dictionary* dict, std::string* out) const {
  if (traces_.empty()) return;
  out->append(kMagic);
  put_varint(out, traces_.size());
  for (const auto& [trace, spans] : traces_) serialize_entry(trace, spans, dict, out);
}

void ProfileTraceIndex::serialize_trace(std::string_view trace_id, Dictionary* dict,
                                        std::string* out) const {
  auto it = traces_.find(std::string(trace_id));
  if (it == traces_.end()) return;
  out->append(kMagic);
  put_varint(out, 1);
  serialize_entry(it->first, it->second, dict, out);
}

std::vector<std::string> ProfileTraceIndex::trace_ids() const {
  std::vector<std::string> ids;
  ids.reserve(traces_.size());
  for (const auto& [trace, spans] : traces_) ids.push_back(trace);
  std::sort(ids.begin(), ids.end());
  return ids;
}

void ProfileTraceIndex::serialize_entry(const std::string& trace, const Spans& spans,
                                        Dictionary* dict, std::string* out) {
  put_bytes(out, trace);
  put_varint(out, spans.size());
  for (const auto& [key, e] : spans) {
    put_bytes(out, key.first);
    put_varint(out, dict->intern(key.second));
    put_varint(out, dict->intern(e.service));
    put_varint(out, e.minute_unix_nano / kMinuteNanos);
    put_varint(out, e.stacks.size());
    for (const auto& [stack, count] : e.stacks) {
      auto frames = split(stack);
      put_varint(out, frames.size());
      for (std::string_view f : frames) put_varint(out, dict->intern(f));
      put_varint(out, zigzag(count));
    }
  }
}

Status ProfileTraceIndex::parse(ByteReader* r, const Dictionary& dict,
                                std::string_view only_trace) {
  std::string_view magic;
  if (!r->raw(kMagic.size(), &magic) || magic != kMagic) {
    return Status::corruption("profile trace index magic");
  }
  auto str = [&](uint64_t id, std::string_view* s) {
    if (id >= dict.size()) return false;
    *s = dict.at(static_cast<uint32_t>(id));
    return true;
  };
  uint64_t ntraces;
  if (!r->varint(&ntraces)) return Status::corruption("profile trace count");
  std::string stack;
  for (uint64_t i = 0; i < ntraces; ++i) {
    std::string_view trace;
    uint64_t nspans;
    if (!r->bytes(&trace) || trace.size() != 16 || !r->varint(&nspans)) {
      return Status::corruption("profile trace header");
    }
    for (uint64_t j = 0; j < nspans; ++j) {
      std::string_view span, type, service;
      uint64_t type_id, service_id, minute, nstacks;
      if (!r->bytes(&span) || span.size() != 8 || !r->varint(&type_id) || !str(type_id, &type) ||
          !r->varint(&service_id) || !str(service_id, &service) || !r->varint(&minute) ||
          !r->varint(&nstacks)) {
        return Status::corruption("profile trace span header");
      }
      for (uint64_t k = 0; k < nstacks; ++k) {
        uint64_t nframes, id, count;
        if (!r->varint(&nframes) || nframes > 4096)
          return Status::corruption("profile trace frames");
        stack.clear();
        for (uint64_t f = 0; f < nframes; ++f) {
          std::string_view frame;
          if (!r->varint(&id) || !str(id, &frame)) return Status::corruption("profile trace frame");
          if (f) stack.push_back('\n');
          stack.append(frame);
        }
        if (!r->varint(&count)) return Status::corruption("profile trace count");
        if (only_trace.empty() || trace == only_trace) {
          add(trace, span, service, type, minute * kMinuteNanos, stack, unzigzag(count));
        }
      }
    }
  }
  return Status::ok_status();
}

}  // namespace pyrometer::server::store
