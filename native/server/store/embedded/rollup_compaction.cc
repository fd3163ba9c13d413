// EmbeddedStore: merging the rollup files of rollups/ (one per block deleted
// by retention) into one file per past window, and recovering from a crash
// in the middle of a merge. Format and steps: docs/storage-format.md.
#include <dirent.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <set>
#include <shared_mutex>

#include "server/store/block_writer.h"
#include "server/store/embedded/embedded_store.h"
#include "server/store/retention.h"
#include "server/store/rollup_file.h"

namespace pyrometer::server::store {

Status EmbeddedStore::recover_rollup_files() {
  // A merge writes <name>.tmp, fsyncs it and renames it; a crash before the
  // rename leaves the temp file (its inputs are intact).
  std::vector<std::string> names;
  if (DIR* d = ::opendir(rollups_dir_.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n.size() > 4 && n.compare(n.size() - 4, 4, ".tmp") == 0) names.push_back(n);
    }
    ::closedir(d);
  }
  for (const auto& n : names) ::unlink((rollups_dir_ + "/" + n).c_str());
  // A crash after the rename but before every input was deleted leaves
  // inputs that the merged file already counts: delete them now.
  std::set<uint64_t> replaced;
  auto files = list_rollup_files(rollups_dir_);
  for (const auto& f : files) {
    std::string file;
    std::vector<uint64_t> parents;
    Status s = read_file(rollups_dir_ + "/" + f.name, &file);
    if (s.ok()) s = rollup_file_parents(file, &parents);
    if (!s.ok()) {
      // Skipped here and by readers, who report it; its inputs, if any are
      // left, then still count.
      block_crc_failures_++;
      std::fprintf(stderr, "pyrometer-store: rollup file %s unreadable: %s\n", f.name.c_str(),
                   s.to_string().c_str());
      continue;
    }
    replaced.insert(parents.begin(), parents.end());
  }
  bool removed = false;
  for (const auto& f : files) {
    if (!replaced.count(f.id)) continue;
    if (::unlink((rollups_dir_ + "/" + f.name).c_str()) != 0 && errno != ENOENT) {
      return Status::io_error("unlink " + f.name + ": " + std::strerror(errno));
    }
    removed = true;
  }
  return removed || !names.empty() ? sync_dir(rollups_dir_) : Status::ok_status();
}

Status EmbeddedStore::compact_rollups(int* written) {
  std::lock_guard<std::mutex> write_lock(write_mu_);
  if (written) *written = 0;
  uint64_t window = static_cast<uint64_t>(options_.rollup_merge_window.count());
  Status first;
  auto fail = [&](const Status& s, const std::string& what) {
    background_errors_++;
    std::fprintf(stderr, "pyrometer-store: rollup merge %s failed: %s\n", what.c_str(),
                 s.to_string().c_str());
    if (first.ok()) first = s;
  };
  // Writes `set` as one file replacing `inputs`, then deletes them.
  auto replace = [&](const std::vector<RollupFileInfo>& inputs, const RollupSet& set) {
    std::vector<uint64_t> parents;
    uint64_t max_minute = 0;
    for (const auto& f : inputs) {
      parents.push_back(f.id);
      max_minute = std::max(max_minute, f.max_minute_unix_nano);
    }
    uint64_t id = next_block_id_++;  // ids are never reused (see load_blocks)
    std::string name = rollup_file_name(id, max_minute);
    std::string data;
    encode_merged_rollup_file(parents, set, &data);
    // Readers must see the inputs or the merged file, never both.
    std::unique_lock<std::shared_mutex> files_lock(rollup_files_mu_);
    Status s = write_file_atomic(ops_.get(), rollups_dir_ + "/" + name, data);
    if (!s.ok()) return fail(s, name);
    for (const auto& f : inputs) {
      if (::unlink((rollups_dir_ + "/" + f.name).c_str()) != 0 && errno != ENOENT) {
        // The merged file lists it as a parent: the next open deletes it.
        fail(Status::io_error("unlink " + f.name + ": " + std::strerror(errno)), name);
      }
    }
    s = sync_dir(rollups_dir_);
    if (!s.ok()) fail(s, name);
    if (written) ++*written;
  };
  for (const auto& group : plan_rollup_merges(list_rollup_files(rollups_dir_), window, now())) {
    // A RollupSet holds at most kRollupMaxKeys rows and would drop the rest:
    // a window with more is merged into several files.
    std::vector<RollupFileInfo> chunk;
    RollupSet acc;
    for (const auto& f : group) {
      std::string file;
      RollupSet one;
      Status s = read_file(rollups_dir_ + "/" + f.name, &file);
      if (s.ok()) s = read_rollup_file(file, &one);
      if (!s.ok()) {
        // Left in place (readers skip and report it); the rest still merge.
        block_crc_failures_++;
        fail(s, f.name);
        continue;
      }
      if (!chunk.empty() && acc.size() + one.size() > kRollupMaxKeys) {
        if (chunk.size() >= 2) replace(chunk, acc);
        chunk.clear();
        acc = RollupSet();
      }
      acc.merge_all(one);
      chunk.push_back(f);
    }
    if (chunk.size() >= 2) replace(chunk, acc);
  }
  return first;
}

}  // namespace pyrometer::server::store
