// GIL state readers, CPython 3.9 to 3.13: where the GIL lives per version is
// gil_layout.h; this file reads it and maps thread states to native ids.
#include "agent/cpython/gil_state.h"

#include <Python.h>

#include <atomic>
#include <unordered_map>

#include "agent/cpython/compat.h"
#include "agent/cpython/gil_layout.h"

namespace pyrometer::agent::cpython {

#if defined(PYROMETER_GIL_LAYOUT)

using gil_layout::Gil;

#if PY_VERSION_HEX < 0x030D0000
static_assert(sizeof(((Gil*)nullptr)->locked) == sizeof(int),
              "_Py_atomic_int layout differs from int");
static_assert(sizeof(((Gil*)nullptr)->last_holder) == sizeof(void*),
              "_Py_atomic_address layout differs from a pointer");
#endif
#if !defined(FORCE_SWITCHING)
#error "pycore_gil.h (3.9-3.13) defines FORCE_SWITCHING: switch_cond/switch_mutex are expected"
#endif

namespace {

// Set once, by the first reading that finds the layout inconsistent: from then
// on nothing is read (a wrong layout would give meaningless numbers).
std::atomic<const char*> g_layout_problem{nullptr};
std::atomic<bool> g_layout_checked{false};

}  // namespace

bool read_gil_state(GilSnapshot* out) {
  if (g_layout_problem.load(std::memory_order_relaxed) != nullptr) return false;
  const Gil* gil = gil_layout::main_gil();
  if (gil == nullptr) return false;  // not created yet (or finalised)
  if (!g_layout_checked.load(std::memory_order_acquire)) {
    // Racing first readers may both check: harmless, same answer.
    if (const char* why = gil_layout::layout_problem(gil)) {
      g_layout_problem.store(why, std::memory_order_relaxed);
      return false;
    }
    g_layout_checked.store(true, std::memory_order_release);
  }
  // Relaxed atomic loads: the interpreter writes these with atomics (locked,
  // last_holder) or under gil->mutex (switch_number); a stale read only costs
  // one sample's accuracy.
  int locked = gil_layout::load_locked(gil);
  if (locked < 0) return false;  // -1: GIL not created yet (or destroyed)
  out->locked = locked != 0;
  out->holder = gil_layout::load_holder(gil);
  out->switch_number = __atomic_load_n(&gil->switch_number, __ATOMIC_RELAXED);
  // A thread waiting for the GIL sleeps in a futex inside one of these (see
  // take_gil()/drop_gil() in Python/ceval_gil.{h,c}, the same in 3.9–3.13):
  // pthread_cond_timedwait on `cond` (the 5 ms switch-interval waits),
  // pthread_mutex_lock on `mutex`, and with FORCE_SWITCHING the dropping
  // thread's wait on `switch_cond` for a waiter to take over (then it queues
  // again) and `switch_mutex`. For the main interpreter the addresses never
  // change (its GIL is inside the static _PyRuntime).
  auto range = [](const void* p, size_t n) {
    auto b = reinterpret_cast<uintptr_t>(p);
    return AddressRange{b, b + n};
  };
  out->wait_objects = {range(&gil->cond, sizeof(gil->cond)), range(&gil->mutex, sizeof(gil->mutex)),
                       range(&gil->switch_cond, sizeof(gil->switch_cond)),
                       range(&gil->switch_mutex, sizeof(gil->switch_mutex))};
  return true;
}

const char* gil_state_unsupported_reason() {
  return g_layout_problem.load(std::memory_order_relaxed);
}

#else

bool read_gil_state(GilSnapshot*) { return false; }
const char* gil_state_unsupported_reason() { return PYROMETER_GIL_UNSUPPORTED; }

#endif

#if PY_VERSION_HEX < 0x030B0000
namespace {

// 3.9/3.10's PyThreadState has no native_thread_id; its thread_id is the
// pthread_t (threading's `ident`). Threads that `threading` knows (its own,
// the main thread, dummies for foreign threads it has seen) carry their native
// id on the Thread object, so join on ident. Runs Python code (a property), so
// it must finish before the thread-state list is walked: the GIL may be
// dropped in between bytecodes. Threads `threading` does not know stay
// unmapped (their samples count under holder 0). REQUIRES the GIL.
std::unordered_map<unsigned long, uint64_t> native_ids_by_ident() {
  std::unordered_map<unsigned long, uint64_t> out;
  out[PyThread_get_thread_ident()] = PyThread_get_thread_native_id();  // the caller
  PyObject* pending = py::take_raised_exception();
  PyObject* name = PyUnicode_FromString("threading");
  PyObject* threading = name != nullptr ? PyImport_GetModule(name) : nullptr;  // never imports
  // `_active` ({ident: Thread}) and `_limbo` ({Thread: Thread}): a thread leaves
  // `_limbo` for `_active` only after Thread.start() has returned (3.9/3.10's
  // _bootstrap_inner sets _started first), but its ident and native_id are
  // already set, so a map built right after start() must read both.
  for (const char* registry : {"_active", "_limbo"}) {
    PyObject* dict = threading != nullptr ? PyObject_GetAttrString(threading, registry) : nullptr;
    // A list copy of the threads: the dict may change while the properties run.
    PyObject* threads = dict != nullptr && PyDict_Check(dict) ? PyDict_Values(dict) : nullptr;
    for (Py_ssize_t i = 0; threads != nullptr && i < PyList_GET_SIZE(threads); ++i) {
      PyObject* thread = PyList_GET_ITEM(threads, i);  // borrowed
      PyObject* ident = PyObject_GetAttrString(thread, "ident");
      PyObject* native_id =
          ident != nullptr ? PyObject_GetAttrString(thread, "native_id") : nullptr;
      if (ident != nullptr && PyLong_Check(ident) && native_id != nullptr &&
          PyLong_Check(native_id)) {
        unsigned long key = PyLong_AsUnsignedLong(ident);
        unsigned long long tid = PyLong_AsUnsignedLongLong(native_id);
        if (!PyErr_Occurred()) out[key] = tid;
      }
      Py_XDECREF(native_id);
      Py_XDECREF(ident);
      PyErr_Clear();  // a thread we cannot map stays unmapped (holder 0), as documented
    }
    Py_XDECREF(threads);
    Py_XDECREF(dict);
    PyErr_Clear();
  }
  Py_XDECREF(threading);
  Py_XDECREF(name);
  PyErr_Clear();
  py::restore_raised_exception(pending);
  return out;
}

}  // namespace
#endif

std::vector<std::pair<uintptr_t, uint64_t>> thread_state_map() {
  std::vector<std::pair<uintptr_t, uint64_t>> out;
#if PY_VERSION_HEX < 0x030B0000
  std::unordered_map<unsigned long, uint64_t> native = native_ids_by_ident();
#endif
  PyInterpreterState* interp = PyInterpreterState_Get();
  for (PyThreadState* t = PyInterpreterState_ThreadHead(interp); t != nullptr;
       t = PyThreadState_Next(t)) {
#if PY_VERSION_HEX >= 0x030B0000
    out.emplace_back(reinterpret_cast<uintptr_t>(t), static_cast<uint64_t>(t->native_thread_id));
#else
    auto it = native.find(t->thread_id);
    if (it != native.end()) out.emplace_back(reinterpret_cast<uintptr_t>(t), it->second);
#endif
  }
  return out;
}

}  // namespace pyrometer::agent::cpython
