// Where each CPython version keeps its GIL (struct _gil_runtime_state in
// Include/internal/pycore_gil.h) and how to load its fields without the GIL.
// Include only from gil_state.cc, after <Python.h>: it pulls in the
// interpreter's internal headers with Py_BUILD_CORE.
//
// Defines exactly one of
//   PYROMETER_GIL_LAYOUT       the GIL is readable in this build: main_gil(),
//                              load_locked(), load_holder(), layout_problem();
//   PYROMETER_GIL_UNSUPPORTED  a string saying why it is not.
//
//   3.9–3.11  _PyRuntime.ceval.gil (one GIL per process);
//   3.12      _PyRuntime.interpreters.main->ceval.gil, a pointer: each
//             interpreter may own a GIL (PEP 684); the main one's is its _gil;
//   3.13      the same, ceval.gil found through _PyRuntime.debug_offsets; the
//             struct is the same minus the _Py_atomic_* wrappers (a plain int
//             and PyThreadState*, written with relaxed atomics);
//   3.13t     free-threaded (Py_GIL_DISABLED): unsupported, see below.
// The struct's own layout (interval, last_holder, locked, switch_number, cond,
// mutex, switch_cond, switch_mutex) is the same from 3.9 to 3.13 (3.13t adds
// `enabled` first). _Py_DebugOffsets (3.13) publishes locked and last_holder
// but not switch_number nor the cond/mutex the wait sampler needs, so the
// layout is compiled in from the version's own headers and checked against
// the running interpreter by layout_problem().
#pragma once

#include <Python.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(Py_GIL_DISABLED)
// The GIL is normally off there (PYTHON_GIL=1 or an old extension module turns
// it on, with an extra `enabled` field first): nothing to sample by default.
#define PYROMETER_GIL_UNSUPPORTED                                                    \
  "GIL sampling is not supported on free-threaded CPython (Py_GIL_DISABLED builds, " \
  "where the GIL is normally off)"
#elif PY_VERSION_HEX >= 0x03090000 && PY_VERSION_HEX < 0x030E0000
// The internal headers need Py_BUILD_CORE. The C11 <stdatomic.h> branch of
// 3.9–3.12's pycore_atomic.h does not compile as C++, so take the GCC-builtin
// branch: _Py_atomic_int and _Py_atomic_address then become structs of a plain
// int / uintptr_t with the same size and alignment as the _Atomic versions the
// interpreter was built with, so every offset below matches the real
// _PyRuntime (static_asserts in gil_state.cc). 3.13's headers are C++-clean.
#undef HAVE_STD_ATOMIC
#ifndef HAVE_BUILTIN_ATOMIC
#define HAVE_BUILTIN_ATOMIC 1
#endif
#undef _PyGC_FINALIZED
#define Py_BUILD_CORE 1
#include "internal/pycore_runtime.h"
#undef Py_BUILD_CORE
#if PY_VERSION_HEX < 0x030C0000 && defined(EXPERIMENTAL_ISOLATED_SUBINTERPRETERS)
#define PYROMETER_GIL_UNSUPPORTED \
  "GIL sampling is not supported on CPython built with EXPERIMENTAL_ISOLATED_SUBINTERPRETERS"
#else
#define PYROMETER_GIL_LAYOUT 1
#endif
#else
#define PYROMETER_GIL_UNSUPPORTED \
  "GIL sampling is implemented for CPython 3.9 to 3.13 (this build is for another version)"
#endif

#if defined(PYROMETER_GIL_LAYOUT)
namespace pyrometer::agent::cpython::gil_layout {

using Gil = struct _gil_runtime_state;

template <typename T>
T relaxed(const T* p) {
  return __atomic_load_n(p, __ATOMIC_RELAXED);
}

// The main interpreter's GIL, or nullptr while it does not exist (before
// _PyEval_InitGIL, after _PyEval_FiniGIL). The memory stays valid for the
// process's life: it is inside the static _PyRuntime.
inline Gil* main_gil() {
#if PY_VERSION_HEX < 0x030C0000
  return &_PyRuntime.ceval.gil;
#else
  PyInterpreterState* main = relaxed(&_PyRuntime.interpreters.main);
  if (main == nullptr) return nullptr;
#if PY_VERSION_HEX >= 0x030D0000
  const char* field =
      reinterpret_cast<const char*>(main) + _PyRuntime.debug_offsets.interpreter_state.ceval_gil;
  return relaxed(reinterpret_cast<Gil* const*>(field));
#else
  return relaxed(&main->ceval.gil);
#endif
#endif
}

// -1 (not created or destroyed), 0 (free) or 1 (held).
inline int load_locked(const Gil* g) {
#if PY_VERSION_HEX >= 0x030D0000
  return relaxed(&g->locked);
#else
  return relaxed(&g->locked._value);
#endif
}

// The PyThreadState* of the last holder as an integer, never dereferenced.
inline uintptr_t load_holder(const Gil* g) {
#if PY_VERSION_HEX >= 0x030D0000
  return reinterpret_cast<uintptr_t>(relaxed(&g->last_holder));
#else
  return relaxed(&g->last_holder._value);
#endif
}

// Checks that the running interpreter lays the GIL out as the headers this
// extension was compiled with say (a different patch release could, in
// principle, move internal fields). nullptr when consistent, else why not.
// `gil` is main_gil(), non-null. Plain loads only; cheap enough to run once.
inline const char* layout_problem(const Gil* gil) {
#if PY_VERSION_HEX >= 0x030C0000
  const PyInterpreterState* main = relaxed(&_PyRuntime.interpreters.main);
  // The main interpreter is the static one and owns its GIL: two pointer
  // identities that a shifted PyInterpreterState or _PyRuntimeState breaks.
  if (main != &_PyRuntime._main_interpreter || gil != &main->_gil) {
    return "GIL sampling disabled: the interpreter's layout differs from the CPython headers "
           "this extension was built with (main interpreter or its GIL not where expected)";
  }
#endif
#if PY_VERSION_HEX >= 0x030D0000
  // What CPython publishes for out-of-process tools must agree with what we
  // compiled in; the rest of the struct (switch_number, cond, mutex...) is
  // trusted because these agree.
  const _Py_DebugOffsets& d = _PyRuntime.debug_offsets;
  const auto& is = d.interpreter_state;
  if (std::memcmp(d.cookie, _Py_Debug_Cookie, sizeof(d.cookie)) != 0 ||
      (d.version >> 16) != (PY_VERSION_HEX >> 16) || d.free_threaded != 0 ||
      is.ceval_gil != offsetof(PyInterpreterState, ceval.gil) ||
      is.gil_runtime_state != offsetof(PyInterpreterState, _gil) ||
      is.gil_runtime_state_locked - is.gil_runtime_state != offsetof(Gil, locked) ||
      is.gil_runtime_state_holder - is.gil_runtime_state != offsetof(Gil, last_holder)) {
    return "GIL sampling disabled: _PyRuntime.debug_offsets disagree with the CPython headers "
           "this extension was built with";
  }
#endif
  int locked = load_locked(gil);
  if (locked < -1 || locked > 1) {
    return "GIL sampling disabled: the GIL's `locked` field holds an impossible value (the "
           "interpreter's layout differs from the headers this extension was built with)";
  }
  return nullptr;
}

}  // namespace pyrometer::agent::cpython::gil_layout
#endif
