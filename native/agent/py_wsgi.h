// The native WSGI request path, shared by py_wsgi_response.cc (the response
// side: start_response and body wrappers), py_wsgi_call.cc (the whole traced
// call) and py_route_hook.cc (route naming). Binding layer: needs the
// interpreter.
#pragma once

#include <Python.h>

#include "agent/py_span.h"

namespace pyrometer::agent::py {

// tp_descr_get of the method descriptors (WsgiMethod, RouteMethod), as for a
// function: on an instance a bound method (calling the descriptor with the
// instance first); on the class the descriptor itself.
inline PyObject* bind_as_method(PyObject* self, PyObject* obj, PyObject*) {
  if (obj == nullptr || obj == Py_None) return Py_NewRef(self);
  return PyMethod_New(self, obj);
}

// getattr for the objects standing in for a framework's callable (WsgiApp,
// WsgiMethod, RouteMethod): they show its metadata, as functools.wraps would —
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

// The request object wsgi_app/wsgi_method put on the current span or on the
// request span it was started under (PySpan::request): a new reference, or
// NULL when there is none. Never raises.
PyObject* current_request_new_ref();

// The server's start_response, wrapped: the status goes on `span` (and on
// owner.status_code) first; a 5xx calls on_status(owner, code) instead, which
// records a pending exception or the code. New reference, NULL on failure.
PyObject* new_wsgi_start_response(PyObject* start_response, PySpan* span, PyObject* owner,
                                  PyObject* on_status);

// The app's response iterable, wrapped: `span` is current while the app
// produces each chunk and while it closes (each step runs in the body's own
// Context); it ends at close() (or when the wrapper is collected). An exception of the app goes to on_error(owner,
// exc) and then on. New reference, NULL on failure.
PyObject* new_wsgi_body(PyObject* result, PySpan* span, PyObject* owner, PyObject* on_error);

}  // namespace pyrometer::agent::py
