// route_method(function, context_var, path) -> a method descriptor for a
// framework's dispatch method: each call first names the current request's
// route — context_var's value, then the attributes `path` from it (Flask:
// _cv_request, ("request", "url_rule", "rule")) — and then runs the method.
// The request is the one wsgi_app/wsgi_method traces (current_request());
// its span gets http.route and the name "{verb} {route}" (set_request_route).
//
// Why in C: the route hook runs on every request, and as a Python wrapper it
// was a frame, a ContextVar read and three attribute lookups in bytecode
// (BENCHMARKS.md, app throughput). Binding layer: needs the interpreter.
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <nanobind/nanobind.h>
#include <structmember.h>

#include <cstddef>

#include "agent/py_http_server.h"
#include "agent/py_span.h"
#include "agent/py_wrapper.h"
#include "agent/py_wsgi.h"
#include "agent/tracer.h"

namespace pyrometer::agent::py {
namespace {

PyTypeObject* g_route_type = nullptr;
PyObject* g_str_native = nullptr;
PyObject* g_str_method = nullptr;
PyObject* g_str_http = nullptr;

struct RouteMethod {
  PyObject_HEAD vectorcallfunc vectorcall;
  PyObject* function;  // the framework's method (also __wrapped__)
  PyObject* var;       // ContextVar holding the framework's request context
  PyObject* path;      // tuple of str: attributes from the var's value to the route
};

// The route template (new reference, a str), or NULL when there is none: the
// var unset, an attribute None or missing (no rule matched: a 404). Other
// failures are counted. Never raises.
PyObject* find_route(RouteMethod* r) {
  PyObject* value = nullptr;
  if (PyContextVar_Get(r->var, Py_None, &value) < 0) {
    PyErr_Clear();
    count_internal_error();
    return nullptr;
  }
  const Py_ssize_t n = PyTuple_GET_SIZE(r->path);
  for (Py_ssize_t i = 0; i < n && value != Py_None; ++i) {
    PyObject* next = PyObject_GetAttr(value, PyTuple_GET_ITEM(r->path, i));
    Py_DECREF(value);
    if (next == nullptr) {
      if (!PyErr_ExceptionMatches(PyExc_AttributeError)) count_internal_error();
      PyErr_Clear();
      return nullptr;
    }
    value = next;
  }
  if (PyUnicode_Check(value) && PyUnicode_GET_LENGTH(value) > 0) return value;
  Py_DECREF(value);
  return nullptr;
}

// Names the current request's span from the route, if both exist.
void name_route(RouteMethod* r) {
  PyObject* owner = current_request_new_ref();
  if (owner == nullptr) return;
  if (PyObject* route = find_route(r)) {
    PyObject* span = PyObject_GetAttr(owner, g_str_native);
    PyObject* verb = span != nullptr ? PyObject_GetAttr(owner, g_str_method) : nullptr;
    if (verb == nullptr) {
      PyErr_Clear();
      count_internal_error();
    } else if (is_span(span)) {
      set_request_route(reinterpret_cast<PySpan*>(span), PyUnicode_Check(verb) ? verb : g_str_http,
                        route);
    }
    Py_XDECREF(verb);
    Py_XDECREF(span);
    Py_DECREF(route);
  }
  Py_DECREF(owner);
}

PyObject* route_call(PyObject* self, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  RouteMethod* r = reinterpret_cast<RouteMethod*>(self);
  if (noop_span() == nullptr) name_route(r);
  return PyObject_Vectorcall(r->function, args, nargsf, kwnames);
}

PyObject* route_getattro(PyObject* self, PyObject* name) {
  return wrapper_getattro(self, name, reinterpret_cast<RouteMethod*>(self)->function);
}

int route_traverse(PyObject* self, visitproc visit, void* arg) {
  RouteMethod* r = reinterpret_cast<RouteMethod*>(self);
  Py_VISIT(r->function);
  Py_VISIT(r->var);
  Py_VISIT(r->path);
  Py_VISIT(Py_TYPE(self));
  return 0;
}

int route_clear(PyObject* self) {
  RouteMethod* r = reinterpret_cast<RouteMethod*>(self);
  Py_CLEAR(r->function);
  Py_CLEAR(r->var);
  Py_CLEAR(r->path);
  return 0;
}

PyMemberDef kRouteMembers[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(RouteMethod, vectorcall), READONLY, nullptr},
    {"__wrapped__", T_OBJECT, offsetof(RouteMethod, function), READONLY, "The method."},
    {nullptr, 0, 0, 0, nullptr},
};

bool is_str_tuple(PyObject* o) {
  if (!PyTuple_Check(o)) return false;
  for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(o); ++i) {
    if (!PyUnicode_Check(PyTuple_GET_ITEM(o, i))) return false;
  }
  return true;
}

// route_method(function, context_var, path) -> method descriptor
PyObject* py_route_method(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 3 || !PyCallable_Check(args[0]) ||
      !PyObject_TypeCheck(args[1], &PyContextVar_Type) || !is_str_tuple(args[2])) {
    PyErr_SetString(PyExc_TypeError,
                    "route_method(function, context_var: ContextVar, path: tuple[str, ...])");
    return nullptr;
  }
  RouteMethod* r = PyObject_GC_New(RouteMethod, g_route_type);
  if (r == nullptr) return nullptr;
  r->vectorcall = route_call;
  r->function = Py_NewRef(args[0]);
  r->var = Py_NewRef(args[1]);
  r->path = Py_NewRef(args[2]);
  PyObject_GC_Track(reinterpret_cast<PyObject*>(r));
  return reinterpret_cast<PyObject*>(r);
}

PyMethodDef kFunctions[] = {
    {"route_method", as_fastcall(py_route_method), METH_FASTCALL,
     "route_method(function, context_var, path) -> method descriptor: names the current "
     "request's route from context_var's value and the attributes `path`, then calls function."},
    {nullptr, nullptr, 0, nullptr},
};

}  // namespace

void register_route_hook(nanobind::module_& m) {
  g_str_native = intern_name("native");
  g_str_method = intern_name("method");
  g_str_http = intern_name("HTTP");
  static PyType_Slot slots[] = {
      {Py_tp_call, reinterpret_cast<void*>(PyVectorcall_Call)},
      {Py_tp_descr_get, reinterpret_cast<void*>(bind_as_method)},
      {Py_tp_getattro, reinterpret_cast<void*>(route_getattro)},
      {Py_tp_members, kRouteMembers},
      {Py_tp_traverse, reinterpret_cast<void*>(route_traverse)},
      {Py_tp_clear, reinterpret_cast<void*>(route_clear)},
      {Py_tp_dealloc, reinterpret_cast<void*>(&gc_dealloc<route_clear>)},
      {0, nullptr},
  };
  static PyType_Spec spec = {"pyrometer._native.RouteMethod", sizeof(RouteMethod), 0,
                             kMethodDescriptorFlags, slots};
  g_route_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&spec));
  if (g_route_type == nullptr) throw nanobind::python_error();
  g_route_type->tp_new = nullptr;  // made only by route_method
  if (PyModule_AddFunctions(m.ptr(), kFunctions) < 0) throw nanobind::python_error();
}

}  // namespace pyrometer::agent::py
