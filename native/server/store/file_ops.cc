// Default and fault-injecting FileOps, plus whole-file helpers used by the
// block writer and reader.
#include "server/store/file_ops.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pyrometer::server::store {

Status FileOps::write_all(int fd, std::string_view data, const std::string& what) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::io_error("write " + what + ": " + std::strerror(errno));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::ok_status();
}

Status FileOps::sync(int fd, const std::string& what) {
  if (::fdatasync(fd) != 0)
    return Status::io_error("fdatasync " + what + ": " + std::strerror(errno));
  return Status::ok_status();
}

std::shared_ptr<FileOps> FileOps::real() {
  static auto ops = std::make_shared<FileOps>();
  return ops;
}

namespace {
// Consumes one unit of the budget; true when this call must fail.
bool take(std::atomic<int>& budget) {
  int v = budget.load();
  while (v > 0 && !budget.compare_exchange_weak(v, v - 1)) {
  }
  return v == 0;
}
}  // namespace

Status FaultyFileOps::write_all(int fd, std::string_view data, const std::string& what) {
  if (take(writes_before_failure)) return Status::io_error("injected write failure: " + what);
  return FileOps::write_all(fd, data, what);
}

Status FaultyFileOps::sync(int fd, const std::string& what) {
  if (take(syncs_before_failure)) return Status::io_error("injected fsync failure: " + what);
  return FileOps::sync(fd, what);
}

Status write_file_atomic(FileOps* ops, const std::string& path, std::string_view data) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::io_error("open " + tmp + ": " + std::strerror(errno));
  Status s = ops->write_all(fd, data, tmp);
  if (s.ok()) s = ops->sync(fd, tmp);
  ::close(fd);
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Status::io_error("rename " + tmp + ": " + std::strerror(errno));
  }
  auto slash = path.rfind('/');
  return sync_dir(slash == std::string::npos ? "." : path.substr(0, slash));
}

Status read_file(const std::string& path, std::string* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::not_found(path);
    return Status::io_error("open " + path + ": " + std::strerror(errno));
  }
  out->clear();
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return Status::io_error("read " + path + ": " + std::strerror(errno));
    }
    if (n == 0) break;
    out->append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return Status::ok_status();
}

Status sync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::io_error("open dir " + dir + ": " + std::strerror(errno));
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Status::io_error("fsync dir " + dir + ": " + std::strerror(errno));
  return Status::ok_status();
}

}  // namespace pyrometer::server::store
