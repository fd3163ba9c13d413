// GET /api/v1/profiles: the stored profile rows of (service, endpoint?, type,
// range) merged into one call tree, as JSON (self/total per node), collapsed
// stacks ("a;b;c 42", flamegraph.pl input) or an uncompressed pprof.
#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/pprof_codec.h"
#include "server/query/query_common.h"
#include "server/query/query_routes.h"

namespace pyrometer::server::query {

namespace {

constexpr size_t kMaxNodes = 50000;

struct Node {
  std::string name;
  int64_t self = 0, total = 0;
  std::map<std::string, std::unique_ptr<Node>> children;
};

void write_node(const Node& n, JsonWriter* w) {
  w->begin_object();
  w->key("name");
  w->string(n.name);
  w->key("self");
  w->int64(n.self);
  w->key("total");
  w->int64(n.total);
  w->key("children");
  w->begin_array();
  std::vector<const Node*> kids;
  for (const auto& [k, c] : n.children) kids.push_back(c.get());
  std::sort(kids.begin(), kids.end(), [](const Node* a, const Node* b) {
    return a->total != b->total ? a->total > b->total : a->name < b->name;
  });
  for (const Node* c : kids) write_node(*c, w);
  w->end_array();
  w->end_object();
}

void encode_pprof(const std::map<std::vector<std::string>, std::vector<int64_t>>& stacks,
                  const std::vector<std::string>& value_types, uint64_t time_ns, std::string* out) {
  namespace pp = common::pprof;
  pp::Profile p;
  std::map<std::string, int64_t> strings;
  auto str = [&](const std::string& s) -> int64_t {
    auto [it, added] = strings.emplace(s, static_cast<int64_t>(p.string_table.size()));
    if (added) p.string_table.push_back(s);
    return it->second;
  };
  str("");
  for (const auto& vt : value_types) {
    size_t slash = vt.find('/');
    pp::ValueType t;
    t.type = str(vt.substr(0, slash));
    t.unit = str(slash == std::string::npos ? "count" : vt.substr(slash + 1));
    p.sample_type.push_back(t);
  }
  std::map<std::string, uint64_t> locations;  // frame text → location id (= function id)
  auto location = [&](const std::string& frame) -> uint64_t {
    auto it = locations.find(frame);
    if (it != locations.end()) return it->second;
    uint64_t id = locations.size() + 1;
    locations.emplace(frame, id);
    // "function file:line"
    size_t sp = frame.rfind(' ');
    std::string fn = sp == std::string::npos ? frame : frame.substr(0, sp);
    std::string file_line = sp == std::string::npos ? "" : frame.substr(sp + 1);
    size_t colon = file_line.rfind(':');
    std::string file = colon == std::string::npos ? file_line : file_line.substr(0, colon);
    int64_t line = colon == std::string::npos ? 0 : std::atoll(file_line.c_str() + colon + 1);
    pp::Function f;
    f.id = id;
    f.name = str(fn);
    f.system_name = f.name;
    f.filename = str(file);
    p.function.push_back(f);
    pp::Location l;
    l.id = id;
    l.line.push_back({id, line, 0});
    p.location.push_back(l);
    return id;
  };
  for (const auto& [frames, values] : stacks) {
    pp::Sample s;
    for (auto it = frames.rbegin(); it != frames.rend(); ++it)
      s.location_id.push_back(location(*it));
    s.value = values;
    s.value.resize(value_types.size(), 0);
    p.sample.push_back(std::move(s));
  }
  p.time_nanos = static_cast<int64_t>(time_ns);
  common::pprof::encode_profile(p, out);
}

void handle_profiles(store::Store* store, const http::Request& rq, http::Response* res) {
  ListParams lp;
  if (!parse_list_params(rq, 1, 1, &lp, res)) return;
  std::string type = rq.query_param("type");
  if (type.empty()) type = "cpu";
  if (type != "cpu" && type != "wall" && type != "alloc" && type != "heap") {
    return json_error(400, "type must be one of cpu, wall, alloc, heap", res);
  }
  std::string format = rq.query_param("format");
  if (format.empty()) format = "json";
  if (format != "json" && format != "collapsed" && format != "pprof") {
    return json_error(400, "format must be one of json, collapsed, pprof", res);
  }
  store::ProfileFilter f;
  f.start_unix_nano = lp.range.start_unix_nano;
  f.end_unix_nano = lp.range.end_unix_nano;
  f.service = lp.service;
  f.route = rq.query_param("endpoint");
  f.profile_type = type;
  std::vector<store::ProfileRow> rows;
  common::Status st = store->read_profiles(f, &rows);
  if (!st.ok()) return json_error(500, "reading profiles: " + st.to_string(), res);
  // Value types come from the first row; rows of other layouts are matched by name.
  std::vector<std::string> value_types;
  for (const auto& r : rows) {
    for (const auto& vt : r.value_types) {
      if (std::find(value_types.begin(), value_types.end(), vt) == value_types.end())
        value_types.push_back(vt);
    }
  }
  std::string value = rq.query_param("value");
  size_t vi = 0;
  if (!value.empty()) {
    auto it = std::find_if(value_types.begin(), value_types.end(), [&](const std::string& v) {
      return v == value || v.rfind(value + "/", 0) == 0;
    });
    if (it == value_types.end() && !value_types.empty()) {
      return json_error(400,
                        "value \"" + value.substr(0, 64) +
                            "\" is not one of the profile's "
                            "value types",
                        res);
    }
    vi = it == value_types.end() ? 0 : static_cast<size_t>(it - value_types.begin());
  }
  std::map<std::vector<std::string>, std::vector<int64_t>> stacks;
  int64_t uploads = 0;
  for (const auto& r : rows) {
    uploads += r.uploads;
    std::vector<size_t> map(r.value_types.size());
    for (size_t i = 0; i < r.value_types.size(); ++i) {
      map[i] =
          static_cast<size_t>(std::find(value_types.begin(), value_types.end(), r.value_types[i]) -
                              value_types.begin());
    }
    for (const auto& s : r.samples) {
      auto& v = stacks[s.frames];
      v.resize(value_types.size(), 0);
      for (size_t i = 0; i < s.values.size() && i < map.size(); ++i) v[map[i]] += s.values[i];
    }
  }
  if (format == "pprof") {
    std::string out;
    encode_pprof(stacks, value_types, lp.range.start_unix_nano, &out);
    res->set(200, "application/vnd.google.protobuf", std::move(out));
    res->headers.emplace_back("Content-Disposition", "attachment; filename=\"profile.pb\"");
    return;
  }
  if (format == "collapsed") {
    std::string out;
    for (const auto& [frames, values] : stacks) {
      int64_t v = vi < values.size() ? values[vi] : 0;
      if (v == 0) continue;
      for (size_t i = 0; i < frames.size(); ++i) {
        if (i) out.push_back(';');
        for (char c : frames[i]) out.push_back(c == ';' ? ':' : c);  // ';' separates frames
      }
      out += ' ' + std::to_string(v) + '\n';
    }
    res->set(200, "text/plain; charset=utf-8", std::move(out));
    return;
  }
  Node root;
  root.name = "root";
  size_t nodes = 1;
  bool truncated = false;
  for (const auto& [frames, values] : stacks) {
    int64_t v = vi < values.size() ? values[vi] : 0;
    if (v == 0) continue;
    Node* n = &root;
    root.total += v;
    for (const auto& fr : frames) {
      auto it = n->children.find(fr);
      if (it == n->children.end()) {
        if (nodes >= kMaxNodes) {
          truncated = true;
          break;
        }
        ++nodes;
        it = n->children.emplace(fr, std::make_unique<Node>()).first;
        it->second->name = fr;
      }
      n = it->second.get();
      n->total += v;
    }
    n->self += v;
  }
  JsonWriter w;
  w.begin_object();
  w.key("since");
  w.string(format_rfc3339(lp.range.start_unix_nano));
  w.key("until");
  w.string(format_rfc3339(lp.range.end_unix_nano));
  w.key("type");
  w.string(type);
  w.key("value_type");
  w.string(vi < value_types.size() ? value_types[vi] : "");
  w.key("value_types");
  w.begin_array();
  for (const auto& v : value_types) w.string(v);
  w.end_array();
  w.key("uploads");
  w.int64(uploads);
  w.key("truncated");
  w.boolean(truncated);
  w.key("tree");
  write_node(root, &w);
  w.end_object();
  res->set(200, "application/json", w.take());
}

}  // namespace

void add_profiles_route(http::Router* router, store::Store* store) {
  router->add("GET", "/api/v1/profiles", [store](const http::Request& rq, http::Response* res) {
    handle_profiles(store, rq, res);
  });
}

}  // namespace pyrometer::server::query
