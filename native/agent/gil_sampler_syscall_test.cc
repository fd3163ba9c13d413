// /proc/<tid>/syscall parsing and the futex-wait test, on recorded lines and
// on real threads of this process blocked in a condition variable or a sleep.
#include "agent/gil_sampler_syscall.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <thread>

namespace pyrometer::agent {
namespace {

TEST(ParseProcSyscallTest, Running) {
  ProcSyscall s;
  ASSERT_TRUE(parse_proc_syscall("running\n", &s));
  EXPECT_EQ(s.state, ProcSyscall::State::kRunning);
}

TEST(ParseProcSyscallTest, BlockedOutsideASyscall) {
  ProcSyscall s;
  ASSERT_TRUE(parse_proc_syscall("-1 0x7ffd4d34da17 0x7f50ac5ef545\n", &s));
  EXPECT_EQ(s.state, ProcSyscall::State::kNotInSyscall);
  EXPECT_EQ(s.nr, -1);
}

TEST(ParseProcSyscallTest, FutexWaitLineFromCpython311) {
  // Recorded from a Python 3.11 thread waiting in take_gil (x86_64).
  ProcSyscall s;
  ASSERT_TRUE(parse_proc_syscall(
      "202 0x56070a6c40e8 0x189 0x0 0x7f50ab519eb0 0x0 0xffffffff 0x7f50ab519da0 "
      "0x7f50ac5a5f16\n",
      &s));
  EXPECT_EQ(s.state, ProcSyscall::State::kInSyscall);
  EXPECT_EQ(s.nr, 202);
  EXPECT_EQ(s.args[0], 0x56070a6c40e8u);
  EXPECT_EQ(s.args[1], 0x189u);
  EXPECT_EQ(s.args[3], 0x7f50ab519eb0u);
  EXPECT_EQ(s.args[5], 0xffffffffu);
}

TEST(ParseProcSyscallTest, RejectsMalformedText) {
  ProcSyscall s;
  EXPECT_FALSE(parse_proc_syscall("", &s));
  EXPECT_FALSE(parse_proc_syscall("runningx", &s));
  EXPECT_FALSE(parse_proc_syscall("running 0x1", &s));
  EXPECT_FALSE(parse_proc_syscall("202 0x1 0x2", &s));                              // args missing
  EXPECT_FALSE(parse_proc_syscall("202 0x1 0x2 0x3 0x4 0x5 0x6 0x7 0x8 0x9", &s));  // extra
  EXPECT_FALSE(parse_proc_syscall("202 1 0x2 0x3 0x4 0x5 0x6 0x7 0x8", &s));        // not hex
  EXPECT_FALSE(parse_proc_syscall("abc 0x1 0x2", &s));
  EXPECT_FALSE(parse_proc_syscall("-2 0x1 0x2", &s));
  EXPECT_FALSE(parse_proc_syscall("-1 0x1", &s));
  EXPECT_FALSE(parse_proc_syscall("202 0x11111111111111111 0x0 0x0 0x0 0x0 0x0 0x0 0x0", &s));
}

TEST(IsFutexWaitOnTest, OnlyWaitOperationsInsideTheObjects) {
  if (kFutexSyscall < 0) GTEST_FAIL() << "wait sampling is built for x86_64/arm64 Linux only";
  AddressRange objs[2] = {{0x1000, 0x1030}, {0x2000, 0x2028}};
  ProcSyscall s;
  s.state = ProcSyscall::State::kInSyscall;
  s.nr = kFutexSyscall;
  s.args = {0x1008, 0x189, 0, 0, 0, 0xffffffff};  // WAIT_BITSET|PRIVATE|CLOCK_REALTIME
  EXPECT_TRUE(is_futex_wait_on(s, objs, 2));
  s.args[0] = 0x2000;
  s.args[1] = 0x80;  // FUTEX_WAIT_PRIVATE: a contended pthread_mutex_lock
  EXPECT_TRUE(is_futex_wait_on(s, objs, 2));
  s.args[1] = 0x81;  // FUTEX_WAKE_PRIVATE: the holder signalling is not waiting
  EXPECT_FALSE(is_futex_wait_on(s, objs, 2));
  s.args[1] = 0x80;
  s.args[0] = 0x1030;  // one past the end
  EXPECT_FALSE(is_futex_wait_on(s, objs, 2));
  s.args[0] = 0x1000;
  s.nr = kFutexSyscall + 1;
  EXPECT_FALSE(is_futex_wait_on(s, objs, 2));
  s.nr = kFutexSyscall;
  s.state = ProcSyscall::State::kRunning;
  EXPECT_FALSE(is_futex_wait_on(s, objs, 2));
}

uint64_t this_tid() { return static_cast<uint64_t>(::syscall(SYS_gettid)); }

// Reads `tid` until `pred` holds (the thread may not be blocked yet); bounded
// by a number of reads, not by time.
template <typename Pred>
bool read_until(SyscallFiles* files, uint64_t tid, Pred pred) {
  for (int i = 0; i < 200000; ++i) {
    ProcSyscall s;
    if (files->read(tid, &s) && pred(s)) return true;
    std::this_thread::yield();
  }
  return false;
}

TEST(SyscallFilesTest, SeesAThreadBlockedOnAConditionVariableButNotASleeper) {
  ASSERT_EQ(proc_syscall_unavailable_reason(), nullptr);
  pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
  bool done = false;
  std::atomic<uint64_t> waiter_tid{0}, sleeper_tid{0};
  std::atomic<bool> stop_sleeper{false};
  std::thread waiter([&] {
    waiter_tid = this_tid();
    pthread_mutex_lock(&mu);
    while (!done) pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
  });
  std::thread sleeper([&] {
    sleeper_tid = this_tid();
    while (!stop_sleeper) ::usleep(20000);
  });
  while (waiter_tid == 0 || sleeper_tid == 0) std::this_thread::yield();
  AddressRange objs[2] = {
      {reinterpret_cast<uintptr_t>(&cv), reinterpret_cast<uintptr_t>(&cv) + sizeof(cv)},
      {reinterpret_cast<uintptr_t>(&mu), reinterpret_cast<uintptr_t>(&mu) + sizeof(mu)}};
  SyscallFiles files;
  EXPECT_TRUE(read_until(&files, waiter_tid,
                         [&](const ProcSyscall& s) { return is_futex_wait_on(s, objs, 2); }));
  EXPECT_TRUE(read_until(&files, sleeper_tid, [&](const ProcSyscall& s) {
    return s.state == ProcSyscall::State::kInSyscall && s.nr != kFutexSyscall;
  }));
  ProcSyscall s;
  for (int i = 0; i < 100; ++i) {
    if (files.read(sleeper_tid, &s)) {
      EXPECT_FALSE(is_futex_wait_on(s, objs, 2));
    }
  }
  EXPECT_EQ(files.open_files(), 2u);

  pthread_mutex_lock(&mu);
  done = true;
  pthread_cond_signal(&cv);
  pthread_mutex_unlock(&mu);
  waiter.join();
  stop_sleeper = true;
  sleeper.join();
  // Both threads are gone: their kept files fail, are closed, and not reopened.
  EXPECT_FALSE(files.read(waiter_tid, &s));
  EXPECT_EQ(files.open_files(), 1u);
  files.retain({});
  EXPECT_EQ(files.open_files(), 0u);
  EXPECT_EQ(files.errors(), 0u);
}

}  // namespace
}  // namespace pyrometer::agent
