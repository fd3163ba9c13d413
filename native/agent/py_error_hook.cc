// error_method(function) -> a method descriptor for a framework's exception
// handler (Flask: handle_user_exception, handle_exception): each call first
// keeps the exception on the current request — the request object's
// `pending_exc`, which the WSGI layer records on the span once the response
// status says the request failed (a 5xx; a 4xx is not a server error) — and
// then runs the handler.
//
// Why in C: handle_user_exception re-raises what no error handler takes, so
// a Python wrapper was a frame in the traceback of every unhandled exception
// the app logs. Binding layer: needs the interpreter.
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <nanobind/nanobind.h>
#include <structmember.h>

#include <cstddef>

#include "agent/py_span.h"
#include "agent/py_wrapper.h"
#include "agent/py_wsgi.h"
#include "agent/tracer.h"

namespace pyrometer::agent::py {
namespace {

PyTypeObject* g_error_type = nullptr;
PyObject* g_str_pending_exc = nullptr;

struct ErrorMethod {
  PyObject_HEAD vectorcallfunc vectorcall;
  PyObject* function;  // the framework's handler (also __wrapped__)
};

// (self, exception): the handler's shape. Other shapes are passed on untouched.
PyObject* error_call(PyObject* self, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  ErrorMethod* e = reinterpret_cast<ErrorMethod*>(self);
  if (PyVectorcall_NARGS(nargsf) == 2 && kwnames == nullptr && noop_span() == nullptr) {
    if (PyObject* request = current_request_new_ref()) {
      if (PyObject_SetAttr(request, g_str_pending_exc, args[1]) < 0) {
        PyErr_Clear();
        count_internal_error();
      }
      Py_DECREF(request);
    }
  }
  return PyObject_Vectorcall(e->function, args, nargsf, kwnames);
}

PyObject* error_getattro(PyObject* self, PyObject* name) {
  return wrapper_getattro(self, name, reinterpret_cast<ErrorMethod*>(self)->function);
}

int error_traverse(PyObject* self, visitproc visit, void* arg) {
  Py_VISIT(reinterpret_cast<ErrorMethod*>(self)->function);
  Py_VISIT(Py_TYPE(self));
  return 0;
}

int error_clear(PyObject* self) {
  Py_CLEAR(reinterpret_cast<ErrorMethod*>(self)->function);
  return 0;
}

PyMemberDef kErrorMembers[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(ErrorMethod, vectorcall), READONLY, nullptr},
    {"__wrapped__", T_OBJECT, offsetof(ErrorMethod, function), READONLY, "The handler."},
    {nullptr, 0, 0, 0, nullptr},
};

// error_method(function) -> method descriptor
PyObject* py_error_method(PyObject*, PyObject* function) {
  if (!PyCallable_Check(function)) {
    PyErr_SetString(PyExc_TypeError, "error_method(function): function must be callable");
    return nullptr;
  }
  ErrorMethod* e = PyObject_GC_New(ErrorMethod, g_error_type);
  if (e == nullptr) return nullptr;
  e->vectorcall = error_call;
  e->function = Py_NewRef(function);
  PyObject_GC_Track(reinterpret_cast<PyObject*>(e));
  return reinterpret_cast<PyObject*>(e);
}

PyMethodDef kFunctions[] = {
    {"error_method", py_error_method, METH_O,
     "error_method(function) -> method descriptor: keeps the exception it is called with on the "
     "current request (pending_exc), then calls function."},
    {nullptr, nullptr, 0, nullptr},
};

}  // namespace

void register_error_hook(nanobind::module_& m) {
  g_str_pending_exc = intern_name("pending_exc");
  static PyType_Slot slots[] = {
      {Py_tp_call, reinterpret_cast<void*>(PyVectorcall_Call)},
      {Py_tp_descr_get, reinterpret_cast<void*>(bind_as_method)},
      {Py_tp_getattro, reinterpret_cast<void*>(error_getattro)},
      {Py_tp_members, kErrorMembers},
      {Py_tp_traverse, reinterpret_cast<void*>(error_traverse)},
      {Py_tp_clear, reinterpret_cast<void*>(error_clear)},
      {Py_tp_dealloc, reinterpret_cast<void*>(&gc_dealloc<error_clear>)},
      {0, nullptr},
  };
  static PyType_Spec spec = {"pyrometer._native.ErrorMethod", sizeof(ErrorMethod), 0,
                             kMethodDescriptorFlags, slots};
  g_error_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&spec));
  if (g_error_type == nullptr) throw nanobind::python_error();
  g_error_type->tp_new = nullptr;  // made only by error_method
  if (PyModule_AddFunctions(m.ptr(), kFunctions) < 0) throw nanobind::python_error();
}

}  // namespace pyrometer::agent::py
