// GIL state readers per CPython version. 3.11: _PyRuntime.ceval.gil (struct
// _gil_runtime_state in Include/internal/pycore_gil.h). Others: unsupported (see below).
#include "agent/cpython/gil_state.h"

#include <Python.h>

#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030C0000
// The internal headers need Py_BUILD_CORE. Their C11 <stdatomic.h> branch does
// not compile as C++, so take the GCC-builtin branch: _Py_atomic_int and
// _Py_atomic_address then become structs of a plain int / uintptr_t with the
// same size and alignment as the _Atomic versions the interpreter was built
// with, so every offset below matches the real _PyRuntime.
#undef HAVE_STD_ATOMIC
#ifndef HAVE_BUILTIN_ATOMIC
#define HAVE_BUILTIN_ATOMIC 1
#endif
#undef _PyGC_FINALIZED
#define Py_BUILD_CORE 1
#include "internal/pycore_runtime.h"
#undef Py_BUILD_CORE
#define PYROMETER_GIL_311 1
#endif

namespace pyrometer::agent::cpython {

#if defined(PYROMETER_GIL_311)

static_assert(sizeof(((_gil_runtime_state*)nullptr)->locked) == sizeof(int),
              "_Py_atomic_int layout differs from int");
static_assert(sizeof(((_gil_runtime_state*)nullptr)->last_holder) == sizeof(void*),
              "_Py_atomic_address layout differs from a pointer");
#if !defined(FORCE_SWITCHING)
#error "3.11's pycore_gil.h defines FORCE_SWITCHING: switch_cond/switch_mutex are expected"
#endif

bool read_gil_state(GilSnapshot* out) {
  _gil_runtime_state* gil = &_PyRuntime.ceval.gil;
  // Relaxed atomic loads: the interpreter writes these with atomics (locked,
  // last_holder) or under gil->mutex (switch_number); a torn/stale read only
  // costs one sample's accuracy.
  int locked = __atomic_load_n(&gil->locked._value, __ATOMIC_RELAXED);
  if (locked < 0) return false;  // -1: GIL not created yet (or destroyed)
  out->locked = locked != 0;
  out->holder = __atomic_load_n(&gil->last_holder._value, __ATOMIC_RELAXED);
  out->switch_number = __atomic_load_n(&gil->switch_number, __ATOMIC_RELAXED);
  // A thread waiting for the GIL sleeps in a futex inside one of these (see
  // take_gil()/drop_gil() in 3.11's Python/ceval_gil.h): pthread_cond_timedwait
  // on `cond` (the 5 ms switch-interval waits), pthread_mutex_lock on `mutex`,
  // and with FORCE_SWITCHING the dropping thread's wait on `switch_cond` for a
  // waiter to take over (then it queues again) and `switch_mutex`.
  auto range = [](const void* p, size_t n) {
    auto b = reinterpret_cast<uintptr_t>(p);
    return AddressRange{b, b + n};
  };
  out->wait_objects = {range(&gil->cond, sizeof(gil->cond)), range(&gil->mutex, sizeof(gil->mutex)),
                       range(&gil->switch_cond, sizeof(gil->switch_cond)),
                       range(&gil->switch_mutex, sizeof(gil->switch_mutex))};
  return true;
}

const char* gil_state_unsupported_reason() { return nullptr; }

#else

// Not implemented, because untested on this machine (CPython 3.11 only):
// - 3.12 moved the GIL to interp->ceval.gil (a pointer to the same
//   struct _gil_runtime_state: interval, last_holder, locked, switch_number);
// - 3.13+ publishes, in _PyRuntime.debug_offsets.interpreter_state
//   (Include/internal/pycore_debug_offsets.h), the offsets of ceval_gil,
//   gil_runtime_state, gil_runtime_state_enabled (free-threaded builds),
//   gil_runtime_state_locked and gil_runtime_state_holder — but not
//   switch_number, so switches/s would need the struct layout again.
// - wait sampling needs the addresses of cond/mutex/switch_cond/switch_mutex:
//   3.12 and 3.13 keep them in struct _gil_runtime_state after switch_number
//   (3.13 free-threaded builds put `enabled` first), but _Py_DebugOffsets does
//   not publish them, so each version's layout would be compiled in here.
// Until then: "unsupported" (no pyrometer.gil.* metrics; doctor can say so).
bool read_gil_state(GilSnapshot*) { return false; }
const char* gil_state_unsupported_reason() {
  return "GIL sampling is implemented for CPython 3.11 only in this build";
}

#endif

std::vector<std::pair<uintptr_t, uint64_t>> thread_state_map() {
  std::vector<std::pair<uintptr_t, uint64_t>> out;
  PyInterpreterState* interp = PyInterpreterState_Get();
  for (PyThreadState* t = PyInterpreterState_ThreadHead(interp); t != nullptr;
       t = PyThreadState_Next(t)) {
#if PY_VERSION_HEX >= 0x030B0000
    out.emplace_back(reinterpret_cast<uintptr_t>(t), static_cast<uint64_t>(t->native_thread_id));
#else
    out.emplace_back(reinterpret_cast<uintptr_t>(t), static_cast<uint64_t>(t->thread_id));
#endif
  }
  return out;
}

}  // namespace pyrometer::agent::cpython
