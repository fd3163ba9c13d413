// CPython version differences the tracer binding needs, in one place: the
// raised-exception API (3.12) and per-object critical sections (3.13t).
#pragma once

#include <Python.h>

#if PY_VERSION_HEX < 0x030A0000
// 3.9 lacks these 3.10 conveniences; same semantics.
static inline PyObject* Py_NewRef(PyObject* o) {
  Py_INCREF(o);
  return o;
}
static inline PyObject* Py_XNewRef(PyObject* o) {
  Py_XINCREF(o);
  return o;
}
static inline int PyModule_AddObjectRef(PyObject* m, const char* name, PyObject* value) {
  Py_XINCREF(value);
  int rc = PyModule_AddObject(m, name, value);
  if (rc < 0) Py_XDECREF(value);
  return rc;
}
#endif

namespace pyrometer::agent::py {

// Takes the raised exception out of the thread state (new reference to the
// normalised exception instance, its traceback attached), or NULL if none.
inline PyObject* take_raised_exception() {
#if PY_VERSION_HEX >= 0x030C0000
  return PyErr_GetRaisedException();
#else
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  if (type == nullptr) return nullptr;
  PyErr_NormalizeException(&type, &value, &tb);
  if (tb != nullptr && value != nullptr) PyException_SetTraceback(value, tb);
  Py_XDECREF(type);
  Py_XDECREF(tb);
  return value;
#endif
}

// Raises `exc` again (steals the reference), as taken by take_raised_exception.
// NULL (nothing was raised) leaves no exception set.
inline void restore_raised_exception(PyObject* exc) {
  if (exc == nullptr) return;
#if PY_VERSION_HEX >= 0x030C0000
  PyErr_SetRaisedException(exc);
#else
  PyObject* tb = PyException_GetTraceback(exc);
  PyObject* type = reinterpret_cast<PyObject*>(Py_TYPE(exc));
  Py_INCREF(type);
  PyErr_Restore(type, exc, tb);
#endif
}

}  // namespace pyrometer::agent::py

// Serialises mutations of one object under free-threading; nothing with the GIL.
#if defined(Py_GIL_DISABLED) && PY_VERSION_HEX >= 0x030D0000
#define PYROMETER_BEGIN_CRITICAL(obj) Py_BEGIN_CRITICAL_SECTION(obj)
#define PYROMETER_END_CRITICAL() Py_END_CRITICAL_SECTION()
#else
#define PYROMETER_BEGIN_CRITICAL(obj) {
#define PYROMETER_END_CRITICAL() }
#endif
