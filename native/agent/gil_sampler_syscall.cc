// /proc/<tid>/syscall parsing and the kept-open per-thread descriptors the GIL
// wait sampler reads (format: proc_pid_syscall() in the kernel's fs/proc/base.c).
#include "agent/gil_sampler_syscall.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

namespace pyrometer::agent {
namespace {

// One whitespace-separated token from *s (leading spaces skipped).
std::string_view next_token(std::string_view* s) {
  size_t i = 0;
  while (i < s->size() && ((*s)[i] == ' ' || (*s)[i] == '\n')) ++i;
  size_t j = i;
  while (j < s->size() && (*s)[j] != ' ' && (*s)[j] != '\n') ++j;
  std::string_view tok = s->substr(i, j - i);
  s->remove_prefix(j);
  return tok;
}

bool parse_hex(std::string_view t, uint64_t* out) {
  if (t.size() < 3 || t[0] != '0' || (t[1] != 'x' && t[1] != 'X') || t.size() > 18) return false;
  uint64_t v = 0;
  for (char c : t.substr(2)) {
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0) return false;
    v = v << 4 | static_cast<uint64_t>(d);
  }
  *out = v;
  return true;
}

bool parse_long(std::string_view t, long* out) {
  bool neg = !t.empty() && t[0] == '-';
  if (neg) t.remove_prefix(1);
  if (t.empty() || t.size() > 9) return false;
  long v = 0;
  for (char c : t) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = neg ? -v : v;
  return true;
}

// futex(2) operations that put the caller to sleep on uaddr (include/uapi/linux/futex.h).
constexpr uint64_t kFutexCmdMask = 0x7f;  // ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME)
bool is_wait_op(uint64_t op) {
  switch (op & kFutexCmdMask) {
    case 0:   // FUTEX_WAIT: pthread_mutex_lock (normal mutexes)
    case 6:   // FUTEX_LOCK_PI
    case 9:   // FUTEX_WAIT_BITSET: glibc's pthread_cond_wait / _timedwait
    case 11:  // FUTEX_WAIT_REQUEUE_PI
    case 13:  // FUTEX_LOCK_PI2
      return true;
    default:
      return false;
  }
}

}  // namespace

bool parse_proc_syscall(std::string_view text, ProcSyscall* out) {
  std::string_view rest = text;
  std::string_view first = next_token(&rest);
  if (first == "running") {
    out->state = ProcSyscall::State::kRunning;
    out->nr = -1;
    return next_token(&rest).empty();
  }
  long nr = 0;
  if (!parse_long(first, &nr)) return false;
  uint64_t ignored = 0;
  if (nr == -1) {  // "-1 sp pc"
    out->state = ProcSyscall::State::kNotInSyscall;
    out->nr = -1;
    return parse_hex(next_token(&rest), &ignored) && parse_hex(next_token(&rest), &ignored) &&
           next_token(&rest).empty();
  }
  if (nr < 0) return false;
  out->state = ProcSyscall::State::kInSyscall;
  out->nr = nr;
  for (uint64_t& a : out->args) {
    if (!parse_hex(next_token(&rest), &a)) return false;
  }
  return parse_hex(next_token(&rest), &ignored) && parse_hex(next_token(&rest), &ignored) &&
         next_token(&rest).empty();
}

bool is_futex_wait_on(const ProcSyscall& s, const AddressRange* objects, size_t n) {
  if (kFutexSyscall < 0 || s.state != ProcSyscall::State::kInSyscall || s.nr != kFutexSyscall) {
    return false;
  }
  if (!is_wait_op(s.args[1])) return false;
  for (size_t i = 0; i < n; ++i) {
    if (objects[i].contains(s.args[0])) return true;
  }
  return false;
}

bool SyscallFiles::read(uint64_t tid, ProcSyscall* out) {
  char buf[256];
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto it = fds_.find(tid);
    if (it == fds_.end()) {
      if (fds_.size() >= kMaxFiles) return false;
      char path[64];
      std::snprintf(path, sizeof(path), "/proc/self/task/%llu/syscall",
                    static_cast<unsigned long long>(tid));
      int fd = ::open(path, O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        if (errno != ENOENT && errno != ESRCH) ++errors_;
        return false;  // the thread is gone (or not ours)
      }
      it = fds_.emplace(tid, fd).first;
    }
    ssize_t n = ::pread(it->second, buf, sizeof(buf) - 1, 0);
    if (n > 0) {
      if (parse_proc_syscall(std::string_view(buf, static_cast<size_t>(n)), out)) return true;
      ++errors_;  // a format this parser does not know: counted, reported by gil_stats()
      return false;
    }
    // The task behind this descriptor exited (ESRCH, or 0 bytes): the tid may
    // now name another thread, so reopen by number once.
    ::close(it->second);
    fds_.erase(it);
  }
  return false;
}

void SyscallFiles::retain(const std::vector<uint64_t>& tids) {
  for (auto it = fds_.begin(); it != fds_.end();) {
    bool keep = false;
    for (uint64_t t : tids) keep = keep || t == it->first;
    if (keep) {
      ++it;
    } else {
      ::close(it->second);
      it = fds_.erase(it);
    }
  }
}

void SyscallFiles::close_all() {
  for (auto& [tid, fd] : fds_) ::close(fd);
  fds_.clear();
}

const char* proc_syscall_unavailable_reason() {
  if (kFutexSyscall < 0) return "GIL wait sampling needs Linux on x86_64 or arm64";
  int fd = ::open("/proc/thread-self/syscall", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "cannot open /proc/thread-self/syscall";
  char buf[256];
  ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
  ::close(fd);
  ProcSyscall s;
  if (n <= 0 || !parse_proc_syscall(std::string_view(buf, static_cast<size_t>(n)), &s)) {
    return "/proc/<tid>/syscall is not readable here (kernel without arch tracehook?)";
  }
  return nullptr;
}

}  // namespace pyrometer::agent
