// Rollup files: listing, the merged-file encoding, and merge planning.
#include "server/store/rollup_file.h"

#include <dirent.h>

#include <algorithm>
#include <map>

#include "server/store/block_writer.h"
#include "server/store/column_codec.h"
#include "server/store/column_file.h"
#include "server/store/crc32c.h"
#include "server/store/retention.h"

namespace pyrometer::server::store {
namespace {

constexpr size_t kHeaderSize = 8;   // magic, version, reserved
constexpr size_t kTrailerSize = 4;  // crc32c
// More parents than this is corruption (a merge never takes that many files).
constexpr uint32_t kMaxParents = 1u << 20;

// Checks magic, version and CRC; on success *body is what lies between the
// header and the CRC.
Status open_merged(std::string_view file, std::string_view* body) {
  if (file.size() < kHeaderSize + 4 + 8 + kTrailerSize ||
      get_fixed32(file.data()) != kMergedRollupMagic) {
    return Status::corruption("merged rollup file: bad magic");
  }
  uint16_t version = static_cast<uint8_t>(file[4]) | (static_cast<uint8_t>(file[5]) << 8);
  if (version != kMergedRollupVersion) {
    return Status::corruption("merged rollup file: unknown version " + std::to_string(version));
  }
  size_t n = file.size() - kTrailerSize;
  if (crc32c(file.substr(0, n)) != get_fixed32(file.data() + n)) {
    return Status::corruption("merged rollup file: checksum mismatch");
  }
  *body = file.substr(kHeaderSize, n - kHeaderSize);
  return Status::ok_status();
}

Status read_parents(std::string_view* body, std::vector<uint64_t>* parents) {
  if (body->size() < 4) return Status::corruption("merged rollup file: parent count");
  uint32_t count = get_fixed32(body->data());
  if (count > kMaxParents || body->size() < 4 + uint64_t{count} * 8 + 8) {
    return Status::corruption("merged rollup file: parent list");
  }
  for (uint32_t i = 0; i < count; ++i) parents->push_back(get_fixed64(body->data() + 4 + i * 8));
  body->remove_prefix(4 + size_t{count} * 8);
  return Status::ok_status();
}

}  // namespace

std::vector<RollupFileInfo> list_rollup_files(const std::string& dir) {
  std::vector<RollupFileInfo> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      RollupFileInfo f;
      f.name = e->d_name;
      if (parse_rollup_file_name(f.name, &f.id, &f.max_minute_unix_nano)) out.push_back(f);
    }
    ::closedir(d);
  }
  std::sort(out.begin(), out.end(),
            [](const RollupFileInfo& a, const RollupFileInfo& b) { return a.name < b.name; });
  return out;
}

void encode_merged_rollup_file(const std::vector<uint64_t>& parents, const RollupSet& set,
                               std::string* out) {
  size_t start = out->size();
  put_fixed32(out, kMergedRollupMagic);
  out->push_back(static_cast<char>(kMergedRollupVersion & 0xff));
  out->push_back(static_cast<char>(kMergedRollupVersion >> 8));
  out->append(2, '\0');
  put_fixed32(out, static_cast<uint32_t>(parents.size()));
  for (uint64_t p : parents) put_fixed64(out, p);
  std::string raw;
  set.serialize(&raw);
  put_fixed64(out, raw.size());
  zstd_compress(raw, kZstdLevel, out);
  put_fixed32(out, crc32c(std::string_view(*out).substr(start)));
}

Status read_rollup_file(std::string_view file, RollupSet* into) {
  std::string raw;
  if (file.size() >= 4 && get_fixed32(file.data()) == kMergedRollupMagic) {
    std::string_view body;
    std::vector<uint64_t> parents;
    Status s = open_merged(file, &body);
    if (s.ok()) s = read_parents(&body, &parents);
    if (!s.ok()) return s;
    uint64_t n = get_fixed64(body.data());
    if (n > (1ull << 32)) return Status::corruption("merged rollup file: size");
    s = zstd_decompress(body.substr(8), n, &raw);
    if (!s.ok()) return s;
  } else {
    Status s = decode_blob_file(file, &raw);
    if (!s.ok()) return s;
  }
  return into->parse(raw);
}

Status rollup_file_parents(std::string_view file, std::vector<uint64_t>* parents) {
  parents->clear();
  if (file.size() < 4 || get_fixed32(file.data()) != kMergedRollupMagic) {
    return Status::ok_status();  // a block's rollups: no parents
  }
  std::string_view body;
  Status s = open_merged(file, &body);
  if (s.ok()) s = read_parents(&body, parents);
  return s;
}

std::vector<std::vector<RollupFileInfo>> plan_rollup_merges(
    const std::vector<RollupFileInfo>& files, uint64_t window_nanos, uint64_t now_unix_nano) {
  std::vector<std::vector<RollupFileInfo>> groups;
  if (window_nanos == 0) return groups;
  std::map<uint64_t, std::vector<RollupFileInfo>> by_window;
  for (const auto& f : files) {
    uint64_t w = f.max_minute_unix_nano / window_nanos;
    if ((w + 1) * window_nanos > now_unix_nano) continue;  // window not over yet
    by_window[w].push_back(f);
  }
  for (auto& [w, group] : by_window) {
    if (group.size() < 2) continue;
    std::sort(group.begin(), group.end(),
              [](const RollupFileInfo& a, const RollupFileInfo& b) { return a.name < b.name; });
    groups.push_back(std::move(group));
  }
  return groups;
}

}  // namespace pyrometer::server::store
