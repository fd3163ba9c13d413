// Exception fingerprints from structured frames or Python traceback text
// (XXH3 via common::sql_fingerprint, which is XXH3_64bits of the bytes).
#include "server/query/error_fingerprint.h"

#include <rapidjson/document.h>

#include <cstdio>

#include "common/sql_normalizer.h"
#include "server/query/query_common.h"

namespace pyrometer::server::query {

namespace {

// "file:function" of each frame of a Python traceback text
// ('  File "/app/x.py", line 3, in handler').
std::vector<std::string> frames_from_text(std::string_view text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while ((pos = text.find("File \"", pos)) != std::string_view::npos) {
    size_t fstart = pos + 6;
    size_t fend = text.find('"', fstart);
    if (fend == std::string_view::npos) break;
    size_t in = text.find(", in ", fend);
    size_t eol = text.find('\n', fend);
    if (in == std::string_view::npos || (eol != std::string_view::npos && in > eol)) {
      pos = fend;
      continue;
    }
    size_t fn_end = text.find('\n', in);
    std::string_view fn = text.substr(
        in + 5, fn_end == std::string_view::npos ? std::string_view::npos : fn_end - in - 5);
    while (!fn.empty() && (fn.back() == '\r' || fn.back() == ' ')) fn.remove_suffix(1);
    out.push_back(std::string(text.substr(fstart, fend - fstart)) + ":" + std::string(fn));
    pos = fend;
  }
  return out;
}

}  // namespace

ExceptionInfo exception_info(const std::vector<store::Attribute>& attrs) {
  ExceptionInfo info;
  info.type.assign(attr_str(attrs, "exception.type"));
  info.message.assign(attr_str(attrs, "exception.message"));
  info.stacktrace.assign(attr_str(attrs, "exception.stacktrace"));
  std::vector<std::string> in_app, all;
  const store::AttrValue* frames = find_attr(attrs, "pyrometer.exception.frames");
  if (frames != nullptr && frames->type == store::AttrValue::Type::kArray) {
    rapidjson::Document doc;
    doc.Parse(frames->str.c_str(), frames->str.size());
    if (!doc.HasParseError() && doc.IsArray()) {
      info.frames_json = frames->str;
      for (const auto& f : doc.GetArray()) {
        if (!f.IsObject()) continue;
        std::string file = f.HasMember("file") && f["file"].IsString() ? f["file"].GetString() : "";
        std::string fn =
            f.HasMember("function") && f["function"].IsString() ? f["function"].GetString() : "";
        bool app = f.HasMember("in_app") && f["in_app"].IsBool() && f["in_app"].GetBool();
        all.push_back(file + ":" + fn);
        if (app) in_app.push_back(all.back());
      }
    }
  }
  if (all.empty()) all = frames_from_text(info.stacktrace);
  const std::vector<std::string>& used = in_app.empty() ? all : in_app;
  std::string key = info.type;
  for (const auto& f : used) {
    key += '\n';
    key += f;
  }
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx",
                static_cast<unsigned long long>(common::sql_fingerprint(key)));
  info.fingerprint = buf;
  return info;
}

}  // namespace pyrometer::server::query
