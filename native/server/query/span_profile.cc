// Folding a span's labelled stacks into per-function self/total counts; the
// frames are the store's "function file:line" strings, root first.
#include "server/query/span_profile.h"

#include <algorithm>
#include <set>
#include <string_view>
#include <tuple>

namespace pyrometer::server::query {

namespace {

struct Frame {
  std::string_view function, file;
  int64_t line = 0;
};

// "handler /srv/app.py:12" → (handler, /srv/app.py, 12). Function names
// carry no spaces (Python qualnames, Go symbols); paths may, so split at the
// first space and the last colon.
Frame parse_frame(std::string_view f) {
  Frame out;
  size_t space = f.find(' ');
  out.function = f.substr(0, space);
  if (space == std::string_view::npos) return out;
  std::string_view rest = f.substr(space + 1);
  size_t colon = rest.rfind(':');
  out.file = rest.substr(0, colon);
  if (colon != std::string_view::npos) {
    for (char c : rest.substr(colon + 1)) {
      if (c < '0' || c > '9') return out;
      out.line = out.line * 10 + (c - '0');
    }
  }
  return out;
}

int type_rank(const std::string& t) {
  static const char* kOrder[] = {"cpu", "wall", "alloc", "heap"};
  for (int i = 0; i < 4; ++i) {
    if (t == kOrder[i]) return i;
  }
  return 4;
}

SpanProfile summarize(const store::ProfileRow& row) {
  SpanProfile p;
  p.type = row.profile_type;
  struct Acc {
    int64_t self = 0, total = 0;
    std::map<int64_t, int64_t> lines;  // line → samples containing it
  };
  std::map<std::pair<std::string_view, std::string_view>, Acc> fns;
  std::set<std::pair<std::string_view, std::string_view>> seen;
  std::set<std::tuple<std::string_view, std::string_view, int64_t>> seen_lines;
  for (const auto& s : row.samples) {
    int64_t n = s.values.empty() ? 0 : s.values[0];
    p.samples += n;
    p.stacks.push_back(s);
    seen.clear();
    seen_lines.clear();
    for (size_t i = 0; i < s.frames.size(); ++i) {
      Frame f = parse_frame(s.frames[i]);
      Acc& a = fns[{f.function, f.file}];
      if (seen.insert({f.function, f.file}).second) a.total += n;
      if (seen_lines.insert({f.function, f.file, f.line}).second) a.lines[f.line] += n;
      if (i + 1 == s.frames.size()) a.self += n;
    }
  }
  for (const auto& [key, a] : fns) {
    FunctionCount fc{std::string(key.first), std::string(key.second), 0, a.self, a.total};
    int64_t best = -1;
    for (const auto& [line, n] : a.lines) {
      if (n > best) best = n, fc.line = line;
    }
    p.functions.push_back(std::move(fc));
  }
  std::sort(p.functions.begin(), p.functions.end(), [](const auto& a, const auto& b) {
    return std::tie(b.total, b.self, a.function, a.file) <
           std::tie(a.total, a.self, b.function, b.file);
  });
  if (p.functions.size() > kMaxFunctionsPerSpan) p.functions.resize(kMaxFunctionsPerSpan);
  std::sort(p.stacks.begin(), p.stacks.end(), [](const auto& a, const auto& b) {
    int64_t x = a.values.empty() ? 0 : a.values[0], y = b.values.empty() ? 0 : b.values[0];
    return x != y ? x > y : a.frames < b.frames;
  });
  return p;
}

}  // namespace

std::map<std::string, std::vector<SpanProfile>> span_profiles(
    const std::vector<store::ProfileRow>& rows) {
  std::map<std::string, std::vector<SpanProfile>> out;
  for (const auto& r : rows) {
    if (r.span_id.empty() || r.samples.empty()) continue;
    SpanProfile p = summarize(r);
    if (p.samples > 0) out[r.span_id].push_back(std::move(p));
  }
  for (auto& [span, profiles] : out) {
    std::sort(profiles.begin(), profiles.end(), [](const auto& a, const auto& b) {
      return std::make_pair(type_rank(a.type), a.type) < std::make_pair(type_rank(b.type), b.type);
    });
  }
  return out;
}

void write_span_profile(const SpanProfile& p, JsonWriter* w) {
  w->begin_object();
  w->key("type");
  w->string(p.type);
  w->key("samples");
  w->int64(p.samples);
  w->key("functions");
  w->begin_array();
  for (const auto& f : p.functions) {
    w->begin_object();
    w->key("function");
    w->string(f.function);
    w->key("file");
    w->string(f.file);
    w->key("line");
    w->int64(f.line);
    w->key("self");
    w->int64(f.self);
    w->key("total");
    w->int64(f.total);
    w->end_object();
  }
  w->end_array();
  w->key("stacks");
  w->begin_array();
  for (const auto& s : p.stacks) {
    w->begin_object();
    w->key("frames");
    w->begin_array();
    for (const auto& f : s.frames) w->string(f);
    w->end_array();
    w->key("count");
    w->int64(s.values.empty() ? 0 : s.values[0]);
    w->end_object();
  }
  w->end_array();
  w->end_object();
}

}  // namespace pyrometer::server::query
