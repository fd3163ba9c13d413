// What the native objects standing in for a framework's function or method
// (py_wsgi_call.cc, py_route_hook.cc, py_asgi_method.cc) share: binding as a
// method and showing the wrapped callable's metadata. Binding layer.
#pragma once

#include <Python.h>

#include "agent/cpython/compat.h"  // Py_NewRef on 3.9

namespace pyrometer::agent::py {

// Type flags of the method descriptors (WsgiMethod, RouteMethod, AsgiMethod).
// METHOD_DESCRIPTOR: `instance.method(...)` calls them with the instance
// first, no bound method made (what functions and method descriptors get).
// IMMUTABLETYPE (3.10+): CPython's specializing interpreter only caches a
// class attribute whose type is immutable; without it every
// `self.wsgi_app(...)` in the framework stays an unspecialized LOAD_METHOD.
#ifdef Py_TPFLAGS_IMMUTABLETYPE
inline constexpr unsigned long kImmutableTypeFlag = Py_TPFLAGS_IMMUTABLETYPE;
#else
inline constexpr unsigned long kImmutableTypeFlag = 0;  // 3.9: no flag, no specialization
#endif
inline constexpr unsigned long kMethodDescriptorFlags =
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL |
    Py_TPFLAGS_METHOD_DESCRIPTOR | kImmutableTypeFlag;

// tp_descr_get of the method descriptors (WsgiMethod, RouteMethod, AsgiMethod), as for a
// function: on an instance a bound method (calling the descriptor with the
// instance first); on the class the descriptor itself.
inline PyObject* bind_as_method(PyObject* self, PyObject* obj, PyObject*) {
  if (obj == nullptr || obj == Py_None) return Py_NewRef(self);
  return PyMethod_New(self, obj);
}

// getattr for the objects standing in for a framework's callable (WsgiApp,
// WsgiMethod, RouteMethod, AsgiMethod): they show its metadata, as functools.wraps would —
// __doc__ and __module__ (which their types define) and any attribute they
// lack come from `wrapped`, the callable.
inline PyObject* wrapper_getattro(PyObject* self, PyObject* name, PyObject* wrapped) {
  if (PyUnicode_Check(name) && (PyUnicode_CompareWithASCIIString(name, "__doc__") == 0 ||
                                PyUnicode_CompareWithASCIIString(name, "__module__") == 0)) {
    return PyObject_GetAttr(wrapped, name);
  }
  PyObject* found = PyObject_GenericGetAttr(self, name);
  if (found != nullptr || !PyErr_ExceptionMatches(PyExc_AttributeError)) return found;
  PyErr_Clear();
  return PyObject_GetAttr(wrapped, name);
}

}  // namespace pyrometer::agent::py
