// asgi_method(function, on_error, fallback) -> a method descriptor for a
// framework's ASGI entry (Starlette.__call__): an "http" request (a dict
// scope) is traced by the native ASGI path (trace_asgi, with the instance as
// owner); anything else — a websocket, lifespan, another call shape — goes to
// `fallback` with the same arguments (the Python layer, which traces
// websockets). Bound like a function (METHOD_DESCRIPTOR), so neither
// `app(scope, receive, send)` through type slots nor `self.method(...)`
// makes a bound method or runs a frame of ours.
//
// Why: the Python wrapper was an `async def` (a coroutine and a frame per
// request) around two more frames before reaching trace_asgi
// (BENCHMARKS.md, app throughput). Binding layer: needs the interpreter.
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <nanobind/nanobind.h>
#include <structmember.h>

#include <cstddef>

#include "agent/py_asgi.h"
#include "agent/py_span.h"
#include "agent/py_wrapper.h"

namespace pyrometer::agent::py {

#if PY_VERSION_HEX >= 0x030A0000
namespace {

PyTypeObject* g_method_type = nullptr;

struct AsgiMethod {
  PyObject_HEAD vectorcallfunc vectorcall;
  PyObject* function;  // the framework's method (also __wrapped__)
  PyObject* on_error;  // on_error(exc), for trace_asgi
  PyObject* fallback;  // fallback(self, scope, receive, send) for what is not traced here
};

PyObject* method_call(PyObject* self, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  AsgiMethod* m = reinterpret_cast<AsgiMethod*>(self);
  if (PyVectorcall_NARGS(nargsf) == 4 && kwnames == nullptr && is_http_scope(args[1])) {
    return trace_asgi(m->function, args[0], args[1], args[2], args[3], m->on_error);
  }
  return PyObject_Vectorcall(m->fallback, args, nargsf, kwnames);
}

PyObject* method_getattro(PyObject* self, PyObject* name) {
  return wrapper_getattro(self, name, reinterpret_cast<AsgiMethod*>(self)->function);
}

int method_traverse(PyObject* self, visitproc visit, void* arg) {
  AsgiMethod* m = reinterpret_cast<AsgiMethod*>(self);
  Py_VISIT(m->function);
  Py_VISIT(m->on_error);
  Py_VISIT(m->fallback);
  Py_VISIT(Py_TYPE(self));
  return 0;
}

int method_clear(PyObject* self) {
  AsgiMethod* m = reinterpret_cast<AsgiMethod*>(self);
  Py_CLEAR(m->function);
  Py_CLEAR(m->on_error);
  Py_CLEAR(m->fallback);
  return 0;
}

PyMemberDef kMembers[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(AsgiMethod, vectorcall), READONLY, nullptr},
    {"__wrapped__", T_OBJECT, offsetof(AsgiMethod, function), READONLY, "The method."},
    {nullptr, 0, 0, 0, nullptr},
};

// asgi_method(function, on_error, fallback) -> method descriptor
PyObject* py_asgi_method(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 3 || !PyCallable_Check(args[0]) || !PyCallable_Check(args[1]) ||
      !PyCallable_Check(args[2])) {
    PyErr_SetString(PyExc_TypeError, "asgi_method(function, on_error, fallback)");
    return nullptr;
  }
  AsgiMethod* m = PyObject_GC_New(AsgiMethod, g_method_type);
  if (m == nullptr) return nullptr;
  m->vectorcall = method_call;
  m->function = Py_NewRef(args[0]);
  m->on_error = Py_NewRef(args[1]);
  m->fallback = Py_NewRef(args[2]);
  PyObject_GC_Track(reinterpret_cast<PyObject*>(m));
  return reinterpret_cast<PyObject*>(m);
}

PyMethodDef kFunctions[] = {
    {"asgi_method", as_fastcall(py_asgi_method), METH_FASTCALL,
     "asgi_method(function, on_error, fallback) -> method descriptor: a framework's ASGI "
     "entry with http requests traced natively, the rest through fallback."},
    {nullptr, nullptr, 0, nullptr},
};

}  // namespace

void register_asgi_method(nanobind::module_& m) {
  static PyType_Slot slots[] = {
      {Py_tp_call, reinterpret_cast<void*>(PyVectorcall_Call)},
      {Py_tp_descr_get, reinterpret_cast<void*>(bind_as_method)},
      {Py_tp_getattro, reinterpret_cast<void*>(method_getattro)},
      {Py_tp_members, kMembers},
      {Py_tp_traverse, reinterpret_cast<void*>(method_traverse)},
      {Py_tp_clear, reinterpret_cast<void*>(method_clear)},
      {Py_tp_dealloc, reinterpret_cast<void*>(&gc_dealloc<method_clear>)},
      {0, nullptr},
  };
  static PyType_Spec spec = {"pyrometer._native.AsgiMethod", sizeof(AsgiMethod), 0,
                             kMethodDescriptorFlags, slots};
  g_method_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&spec));
  if (g_method_type == nullptr) throw nanobind::python_error();
  g_method_type->tp_new = nullptr;  // made only by asgi_method
  if (PyModule_AddFunctions(m.ptr(), kFunctions) < 0) throw nanobind::python_error();
}
#else
// Before 3.10 the Python ASGI layer (integrations/asgi.py) traces requests.
void register_asgi_method(nanobind::module_&) {}
#endif

}  // namespace pyrometer::agent::py
