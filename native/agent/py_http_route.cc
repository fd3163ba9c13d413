// The end of an HTTP server span, shared by every server integration: the
// route a framework matched names it ("{method} {route}", http.route,
// published for the samplers), and the response status finishes it (a 5xx an
// error typed by its code) before it leaves the context and ends. The span's
// start, from an ASGI scope or a WSGI environ, is py_http_server.cc.
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <nanobind/nanobind.h>

#include <cstring>
#include <string>
#include <utility>

#include "agent/cpython/compat.h"
#include "agent/py_http_server.h"
#include "agent/py_span.h"
#include "agent/span.h"
#include "agent/tracer.h"

namespace pyrometer::agent::py {

using common::otlp::StatusCode;

namespace {

// "{verb} {route}" as a new str. Both ASCII (the usual case): one
// allocation and two copies; PyUnicode_FromFormat parses its format and runs
// a writer (~1k instructions per request, measured). NULL with an exception
// on failure.
PyObject* join_verb_route(PyObject* verb, PyObject* route) {
#if PY_VERSION_HEX < 0x030C0000
  if (PyUnicode_READY(verb) < 0 || PyUnicode_READY(route) < 0) return nullptr;
#endif
  if (!PyUnicode_IS_ASCII(verb) || !PyUnicode_IS_ASCII(route)) {
    return PyUnicode_FromFormat("%U %U", verb, route);
  }
  const Py_ssize_t nv = PyUnicode_GET_LENGTH(verb), nr = PyUnicode_GET_LENGTH(route);
  PyObject* name = PyUnicode_New(nv + 1 + nr, 127);
  if (name == nullptr) return nullptr;
  auto* out = static_cast<char*>(PyUnicode_DATA(name));
  std::memcpy(out, PyUnicode_DATA(verb), static_cast<size_t>(nv));
  out[nv] = ' ';
  std::memcpy(out + nv + 1, PyUnicode_DATA(route), static_cast<size_t>(nr));
  return name;
}

// A route about to name a span: its text (for http.route) and the new name
// "{verb} {route}". Empty (nothing to do) for None, "", or a bad value (counted).
struct RouteName {
  std::string text;
  PyObject* name = nullptr;  // owned
  RouteName(PyObject* verb, PyObject* route) {
    if (route == nullptr || route == Py_None) return;
    if (!PyUnicode_Check(route) || !PyUnicode_Check(verb) || !text_of(route, &text)) {
      count_internal_error();
    } else if (!text.empty()) {
      name = join_verb_route(verb, route);
      if (name == nullptr) {
        PyErr_Clear();
        count_internal_error();
      }
    }
  }
  ~RouteName() { Py_XDECREF(name); }
  RouteName(const RouteName&) = delete;
  RouteName& operator=(const RouteName&) = delete;

  // Sets http.route and the name on a span not yet ended; true when the
  // route attribute was stored. REQUIRES the span's critical section.
  bool apply(PySpan* s) {
    if (name == nullptr) return false;
    const bool set = upsert_attribute(s->rec.attributes, "http.route", AttrValue(text));
    Py_SETREF(s->name, name);
    name = nullptr;
    return set;
  }
};

}  // namespace

void set_request_route(PySpan* s, PyObject* verb, PyObject* route) {
  RouteName r(verb, route);
  bool route_set = false;
  PYROMETER_BEGIN_CRITICAL(reinterpret_cast<PyObject*>(s))
  if (s->state != SpanState::kEnded) route_set = r.apply(s);
  PYROMETER_END_CRITICAL()
  if (route_set) note_route(s);
}

void finish_request_span(PySpan* s, int64_t code, PyObject* route) {
  RouteName r(s->name, route);
  bool route_set = false;
  PYROMETER_BEGIN_CRITICAL(reinterpret_cast<PyObject*>(s))
  if (s->state != SpanState::kEnded) {
    if (code >= 0) {
      upsert_attribute(s->rec.attributes, "http.response.status_code", AttrValue(code));
      // A recorded exception already made the span an error with its own
      // error.type (the exception's class), which is the more useful one.
      if (code >= 500 && s->rec.status_code == StatusCode::kUnset) {
        std::string text = std::to_string(code);
        upsert_attribute(s->rec.attributes, "error.type", AttrValue(text));
        s->rec.status_code = StatusCode::kError;
        s->rec.status_message = std::move(text);
      }
    }
    route_set = r.apply(s);
  }
  PYROMETER_END_CRITICAL()
  if (route_set) note_route(s);
  exit_span(s);
}

namespace {

// finish_http_span(span, status, route): status (int or None) as
// http.response.status_code, a 5xx making the span an error typed by the
// code; route (str or None) as http.route, renaming the span
// "{name} {route}"; then the span leaves the context and ends. A 5xx on a
// span whose status is already set (an exception recorded) keeps that status.
// Not a Span (the no-op object): nothing. Never raises for bad values
// (they are counted): the request has already been served.
PyObject* py_finish_http_span(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 3) {
    PyErr_SetString(PyExc_TypeError, "finish_http_span(span, status, route)");
    return nullptr;
  }
  if (!is_span(args[0])) Py_RETURN_NONE;
  PySpan* s = reinterpret_cast<PySpan*>(args[0]);
  PyObject* status = args[1];
  int64_t code = -1;
  if (status != Py_None) {
    long long v = PyLong_Check(status) ? PyLong_AsLongLong(status) : -1;
    if (v < 0 || v > 999) {
      PyErr_Clear();
      count_internal_error();
    } else {
      code = v;
    }
  }
  finish_request_span(s, code, args[2]);
  Py_RETURN_NONE;
}

// set_http_route(span, verb, route): http.route = route, the span renamed
// "{verb} {route}" (a framework matched the URL). Not a Span, an ended span,
// or route None/"": nothing. Never raises for bad values (counted).
PyObject* py_set_http_route(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 3) {
    PyErr_SetString(PyExc_TypeError, "set_http_route(span, verb, route)");
    return nullptr;
  }
  if (is_span(args[0])) set_request_route(reinterpret_cast<PySpan*>(args[0]), args[1], args[2]);
  Py_RETURN_NONE;
}

PyMethodDef kFunctions[] = {
    {"set_http_route", as_fastcall(py_set_http_route), METH_FASTCALL,
     "set_http_route(span, verb, route): http.route, and the span renamed \"{verb} {route}\"."},
    {"finish_http_span", as_fastcall(py_finish_http_span), METH_FASTCALL,
     "finish_http_span(span, status, route): response status and route, then detach and end."},
    {nullptr, nullptr, 0, nullptr},
};

}  // namespace

void register_http_route(nanobind::module_& m) {
  if (PyModule_AddFunctions(m.ptr(), kFunctions) < 0) throw nanobind::python_error();
}

}  // namespace pyrometer::agent::py
