// FileOps: the few filesystem calls whose failure the store must survive
// (write, fsync, rename). Tests swap in a wrapper that fails them on demand.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace pyrometer::server::store {

using common::Status;

// Thread-safe; the default implementation calls the OS directly.
class FileOps {
 public:
  virtual ~FileOps() = default;
  // Writes all of `data` to `fd` (retrying short writes). IOError on failure.
  virtual Status write_all(int fd, std::string_view data, const std::string& what);
  // fdatasync(fd). IOError on failure.
  virtual Status sync(int fd, const std::string& what);

  static std::shared_ptr<FileOps> real();
};

// Test double: after `fail_after` more successful writes (or syncs), every
// write (or sync) fails with IOError until reset. Negative = never fail.
class FaultyFileOps : public FileOps {
 public:
  std::atomic<int> writes_before_failure{-1};
  std::atomic<int> syncs_before_failure{-1};
  Status write_all(int fd, std::string_view data, const std::string& what) override;
  Status sync(int fd, const std::string& what) override;
};

// Writes `data` to `path` via a temp file + fsync + rename, so a reader sees
// the old or the new file, never half of one. Syncs the parent directory.
Status write_file_atomic(FileOps* ops, const std::string& path, std::string_view data);
// Reads a whole file. NotFound if it does not exist.
Status read_file(const std::string& path, std::string* out);
// fsync on a directory so that creates/renames inside it are durable.
Status sync_dir(const std::string& dir);

}  // namespace pyrometer::server::store
