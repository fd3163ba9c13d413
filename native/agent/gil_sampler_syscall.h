// What a thread is blocked in, read from /proc/self/task/<tid>/syscall without
// stopping it: the parser, the futex-wait test, and kept-open per-thread files.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace pyrometer::agent {

// futex(2)'s number on this architecture, or -1 where wait sampling is not
// built (the numbers differ per ABI: x86_64 202, arm64 and other
// asm-generic ABIs 98). 32-bit ABIs also have futex_time64 and are left out.
#if defined(__linux__) && defined(__x86_64__)
inline constexpr long kFutexSyscall = 202;
#elif defined(__linux__) && defined(__aarch64__)
inline constexpr long kFutexSyscall = 98;
#else
inline constexpr long kFutexSyscall = -1;
#endif

// One /proc/<tid>/syscall reading. The kernel prints one of:
//   "running"                      — on a CPU or runnable (or it changed state while read)
//   "-1 <sp> <pc>"                 — blocked, but not in a system call
//   "<nr> <a0> ... <a5> <sp> <pc>" — blocked in system call <nr> (args in hex)
struct ProcSyscall {
  enum class State { kRunning, kNotInSyscall, kInSyscall };
  State state = State::kRunning;
  long nr = -1;
  std::array<uint64_t, 6> args{};
};

// Parses the file's text. False (and *out unspecified) on anything else.
bool parse_proc_syscall(std::string_view text, ProcSyscall* out);

// [begin, end) of a synchronisation object a GIL waiter sleeps on.
struct AddressRange {
  uintptr_t begin = 0;
  uintptr_t end = 0;
  bool contains(uint64_t a) const { return a >= begin && a < end; }
};

// True when `s` is a futex wait (FUTEX_WAIT, _WAIT_BITSET, _LOCK_PI, _LOCK_PI2,
// _WAIT_REQUEUE_PI) on an address inside one of `objects`. A FUTEX_WAKE on
// the same address (the holder signalling) is not a wait.
bool is_futex_wait_on(const ProcSyscall& s, const AddressRange* objects, size_t n);

// Kept-open /proc/self/task/<tid>/syscall descriptors, re-read with pread at
// offset 0 (1.6 µs a read here, against 6 µs for open+read+close). A kept
// descriptor names the task, not the number, so a reused tid is never
// confused with its dead predecessor: the read fails and the file is reopened.
// Not thread-safe: owned by the sampling thread (and the fork child handler).
class SyscallFiles {
 public:
  SyscallFiles() = default;
  SyscallFiles(const SyscallFiles&) = delete;
  SyscallFiles& operator=(const SyscallFiles&) = delete;
  ~SyscallFiles() { close_all(); }

  // Reads thread `tid` of this process. False when it cannot be read (the
  // thread exited, /proc denies it, too many files kept): callers count it as
  // not waiting. `errors` counts unexpected failures (not a thread's exit).
  bool read(uint64_t tid, ProcSyscall* out);
  // Closes the files of threads not in `tids`.
  void retain(const std::vector<uint64_t>& tids);
  void close_all();
  size_t open_files() const { return fds_.size(); }
  uint64_t errors() const { return errors_; }

  // At most this many descriptors are kept (threads past it are not sampled).
  static constexpr size_t kMaxFiles = 256;

 private:
  std::unordered_map<uint64_t, int> fds_;
  uint64_t errors_ = 0;
};

// Whether this process may read its threads' syscall files (the kernel needs
// CONFIG_HAVE_ARCH_TRACEHOOK, and /proc must not be hidden): nullptr when it
// works, otherwise why not.
const char* proc_syscall_unavailable_reason();

}  // namespace pyrometer::agent
