// A traced WSGI request in C: wsgi_app(app, ...) returns a callable that the
// server calls instead of the app; wsgi_method(function, ...) the same for a
// framework's WSGI method (Flask.wsgi_app), bound without a bound-method
// object per call (a method descriptor, as functions are). Per request it starts the SERVER span
// from the environ, makes it current with the integration's request object on it
// (current_request(): route naming, pending exceptions), calls the app with a status-noting
// start_response, and ends the span when the response is built — or hands it
// to a body wrapper that ends it at close(). No Python frame of ours runs.
//
// Why: under a real server, Python frames of the instrumentation cost several
// times what they cost in a warm in-process loop (the server's own work
// evicts them between requests); the Python middleware was ~10 frames per
// request (BENCHMARKS.md, app throughput).
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <nanobind/nanobind.h>
#include <structmember.h>

#include <cstddef>

#include "agent/cpython/compat.h"
#include "agent/py_http_server.h"
#include "agent/py_span.h"
#include "agent/py_wrapper.h"
#include "agent/py_wsgi.h"
#include "agent/tracer.h"

namespace pyrometer::agent::py {

PyObject* current_request_new_ref() {
  PyObject* span = current_span_new_ref();
  PyObject* request = nullptr;
  if (span != nullptr && is_span(span)) {
    PYROMETER_BEGIN_CRITICAL(span)
    request = Py_XNewRef(reinterpret_cast<PySpan*>(span)->request);
    PYROMETER_END_CRITICAL()
  }
  Py_XDECREF(span);
  return request;
}

namespace {

PyTypeObject* g_app_type = nullptr;
PyTypeObject* g_method_type = nullptr;
PyObject* g_str_file_wrapper = nullptr;

// Both types' layout: a WsgiApp calls app(environ, start_response), a
// WsgiMethod app(self, environ, start_response).
// The request class's slots new_owner fills, in this order.
constexpr int kOwnerSlots = 5;
PyObject* g_owner_slot_names[kOwnerSlots] = {};  // native, _token, status_code, pending_exc, method

struct WsgiApp {
  PyObject_HEAD vectorcallfunc vectorcall;
  PyObject* app;         // the wrapped WSGI callable or function (also __wrapped__)
  PyObject* owner_type;  // the integration's request class (_common.Span)
  // Where owner_type's __slots__ store those (member descriptors' offsets),
  // or -1 when one is not a plain object slot: then new_owner uses setattr.
  Py_ssize_t slot_offsets[kOwnerSlots];
  PyObject* on_status;  // on_status(owner, code) for a 5xx
  PyObject* on_error;   // on_error(owner, exc) when the app raises
};

// The integration's request object for `span`, built without running Python
// code: its slots set as its __init__ would (native, _token, status_code,
// pending_exc, method). NULL with an exception on failure.
PyObject* new_owner(WsgiApp* w, PySpan* span) {
  PyTypeObject* type = reinterpret_cast<PyTypeObject*>(w->owner_type);
  PyObject* o = type->tp_alloc(type, 0);
  if (o == nullptr) return nullptr;
  // The verb the span is named by goes in `method`.
  PyObject* values[kOwnerSlots] = {reinterpret_cast<PyObject*>(span), Py_None, Py_None, Py_None,
                                   span->name};
  for (int i = 0; i < kOwnerSlots; ++i) {
    if (w->slot_offsets[i] >= 0) {  // a fresh object's slot: NULL, as tp_alloc zeroes it
      *reinterpret_cast<PyObject**>(reinterpret_cast<char*>(o) + w->slot_offsets[i]) =
          Py_NewRef(values[i]);
    } else if (PyObject_SetAttr(o, g_owner_slot_names[i], values[i]) < 0) {
      Py_DECREF(o);
      return nullptr;
    }
  }
  return o;
}

// Where `type` stores attribute `name`: the offset of its __slots__ member
// (a T_OBJECT_EX member descriptor of `type` itself), or -1.
Py_ssize_t slot_offset(PyObject* type, PyObject* name) {
  PyObject* d = PyDict_GetItemWithError(reinterpret_cast<PyTypeObject*>(type)->tp_dict, name);
  if (d == nullptr || Py_TYPE(d) != &PyMemberDescr_Type) {
    PyErr_Clear();
    return -1;
  }
  const PyMemberDef* m = reinterpret_cast<PyMemberDescrObject*>(d)->d_member;
  return m->type == T_OBJECT_EX && !(m->flags & READONLY) ? m->offset : -1;
}

// True when an outer layer already traces this request: the current span
// belongs to a request.
bool outer_request() {
  PyObject* request = current_request_new_ref();
  Py_XDECREF(request);
  return request != nullptr;
}

// The app's response is complete when it is a list or tuple (or a
// wsgi.file_wrapper, which the server may send with sendfile): the span can
// end now instead of wrapping the body.
bool complete_response(PyObject* environ, PyObject* result) {
  if (PyList_Check(result) || PyTuple_Check(result)) return true;
  if (!PyDict_Check(environ)) return false;
  PyObject* wrapper = PyDict_GetItemWithError(environ, g_str_file_wrapper);  // borrowed
  if (wrapper == nullptr) {
    PyErr_Clear();
    return false;
  }
  if (!PyType_Check(wrapper)) return false;
  const int is = PyObject_IsInstance(result, wrapper);
  if (is < 0) PyErr_Clear();
  return is == 1;
}

// The app raised (exception set): reports it through on_error, leaves the
// context and ends the span; the exception stays raised.
void fail(WsgiApp* w, PySpan* span, PyObject* owner, PyObject* span_token) {
  PyObject* exc = take_raised_exception();
  call_error_hook(w->on_error, owner, exc);
  detach_published(span_token);
  end_span(span);
  restore_raised_exception(exc);
}

// The wrapped app with (environ, start_response), after `self` for a method.
PyObject* call_app(WsgiApp* w, PyObject* self, PyObject* environ, PyObject* start_response) {
  PyObject* args[4] = {nullptr, self, environ, start_response};  // [0]: vectorcall's scratch
  if (self == nullptr) {
    return PyObject_Vectorcall(w->app, args + 2, 2 | PY_VECTORCALL_ARGUMENTS_OFFSET, nullptr);
  }
  return PyObject_Vectorcall(w->app, args + 1, 3 | PY_VECTORCALL_ARGUMENTS_OFFSET, nullptr);
}

// `self`: the instance a WsgiMethod runs for, NULL for a WsgiApp.
PyObject* traced_call(WsgiApp* w, PyObject* self, PyObject* environ, PyObject* start_response) {
  PySpan* span = start_wsgi_request_span(environ);
  if (span == nullptr) {  // allocation failure: serve the request untraced
    PyErr_Clear();
    count_internal_error();
    return call_app(w, self, environ, start_response);
  }
  PyObject* owner = new_owner(w, span);
  PyObject* traced_start = owner != nullptr
                               ? new_wsgi_start_response(start_response, span, owner, w->on_status)
                               : nullptr;
  if (traced_start == nullptr) {
    PyErr_Clear();
    count_internal_error();
    Py_XDECREF(owner);
    end_span(span);
    Py_DECREF(span);
    return call_app(w, self, environ, start_response);
  }
  span->request = Py_NewRef(owner);  // a cycle (owner.native is the span) until the span ends
  PyObject* span_token = attach_published(span);
  PyObject* result = call_app(w, self, environ, traced_start);
  Py_DECREF(traced_start);
  if (result == nullptr) {
    fail(w, span, owner, span_token);
    Py_DECREF(owner);
    Py_DECREF(span);
    return nullptr;
  }
  detach_published(span_token);
  if (complete_response(environ, result)) {
    end_span(span);
  } else {
    PyObject* body = new_wsgi_body(result, span, owner, w->on_error);
    if (body == nullptr) {  // cannot follow the body: end now, serve it as it is
      PyErr_Clear();
      count_internal_error();
      end_span(span);
    } else {
      Py_SETREF(result, body);
    }
  }
  Py_DECREF(owner);
  Py_DECREF(span);
  return result;
}

PyObject* app_call(PyObject* self, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  WsgiApp* w = reinterpret_cast<WsgiApp*>(self);
  const Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  // Anything but (environ, start_response), the agent off, or an outer layer
  // tracing the request already: the app, untouched.
  if (nargs != 2 || kwnames != nullptr || noop_span() != nullptr || outer_request()) {
    return PyObject_Vectorcall(w->app, args, nargsf, kwnames);
  }
  return traced_call(w, nullptr, args[0], args[1]);
}

// As app_call, for (self, environ, start_response).
PyObject* method_call(PyObject* self, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  WsgiApp* w = reinterpret_cast<WsgiApp*>(self);
  const Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  if (nargs != 3 || kwnames != nullptr || noop_span() != nullptr || outer_request()) {
    return PyObject_Vectorcall(w->app, args, nargsf, kwnames);
  }
  return traced_call(w, args[0], args[1], args[2]);
}

PyObject* app_getattro(PyObject* self, PyObject* name) {
  return wrapper_getattro(self, name, reinterpret_cast<WsgiApp*>(self)->app);
}

int app_traverse(PyObject* self, visitproc visit, void* arg) {
  WsgiApp* w = reinterpret_cast<WsgiApp*>(self);
  Py_VISIT(w->app);
  Py_VISIT(w->owner_type);
  Py_VISIT(w->on_status);
  Py_VISIT(w->on_error);
  Py_VISIT(Py_TYPE(self));
  return 0;
}

int app_clear(PyObject* self) {
  WsgiApp* w = reinterpret_cast<WsgiApp*>(self);
  Py_CLEAR(w->app);
  Py_CLEAR(w->owner_type);
  Py_CLEAR(w->on_status);
  Py_CLEAR(w->on_error);
  return 0;
}

PyMemberDef kAppMembers[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(WsgiApp, vectorcall), READONLY, nullptr},
    {"__wrapped__", T_OBJECT, offsetof(WsgiApp, app), READONLY, "The wrapped WSGI app."},
    {nullptr, 0, 0, 0, nullptr},
};

// (app, owner_type, on_status, on_error) -> a new `type` instance.
PyObject* new_wrapper(PyTypeObject* type, vectorcallfunc call, const char* signature,
                      PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 4 || !PyCallable_Check(args[0]) || !PyType_Check(args[1])) {
    PyErr_SetString(PyExc_TypeError, signature);
    return nullptr;
  }
  WsgiApp* w = PyObject_GC_New(WsgiApp, type);
  if (w == nullptr) return nullptr;
  w->vectorcall = call;
  w->app = Py_NewRef(args[0]);
  w->owner_type = Py_NewRef(args[1]);
  for (int i = 0; i < kOwnerSlots; ++i) {
    w->slot_offsets[i] = slot_offset(args[1], g_owner_slot_names[i]);
  }
  w->on_status = Py_NewRef(args[2]);
  w->on_error = Py_NewRef(args[3]);
  PyObject_GC_Track(reinterpret_cast<PyObject*>(w));
  return reinterpret_cast<PyObject*>(w);
}

// current_request() -> the request object of the current span, or None.
PyObject* py_current_request(PyObject*, PyObject*) {
  PyObject* request = current_request_new_ref();
  return request != nullptr ? request : Py_NewRef(Py_None);
}

// wsgi_app(app, owner_type, on_status, on_error) -> WSGI callable
PyObject* py_wsgi_app(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  return new_wrapper(g_app_type, app_call, "wsgi_app(app, owner_type: type, on_status, on_error)",
                     args, nargs);
}

// wsgi_method(function, owner_type, on_status, on_error) -> method descriptor
PyObject* py_wsgi_method(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  return new_wrapper(g_method_type, method_call,
                     "wsgi_method(function, owner_type: type, on_status, on_error)", args, nargs);
}

PyMethodDef kFunctions[] = {
    {"wsgi_app", as_fastcall(py_wsgi_app), METH_FASTCALL,
     "wsgi_app(app, owner_type, on_status, on_error) -> callable: `app` with each request "
     "traced in C (see py_wsgi_call.cc)."},
    {"wsgi_method", as_fastcall(py_wsgi_method), METH_FASTCALL,
     "wsgi_method(function, owner_type, on_status, on_error) -> method descriptor: a "
     "framework's WSGI method (self, environ, start_response) traced as wsgi_app traces an app."},
    {"current_request", py_current_request, METH_NOARGS,
     "current_request() -> the request object wsgi_app set on the current span (or on the "
     "request span it runs under), or None."},
    {nullptr, nullptr, 0, nullptr},
};

}  // namespace

void register_wsgi_call(nanobind::module_& m) {
  const char* slot_names[kOwnerSlots] = {"native", "_token", "status_code", "pending_exc",
                                         "method"};
  for (int i = 0; i < kOwnerSlots; ++i) g_owner_slot_names[i] = intern_name(slot_names[i]);
  g_str_file_wrapper = intern_name("wsgi.file_wrapper");
  static PyType_Slot slots[] = {
      {Py_tp_call, reinterpret_cast<void*>(PyVectorcall_Call)},
      {Py_tp_getattro, reinterpret_cast<void*>(app_getattro)},
      {Py_tp_members, kAppMembers},
      {Py_tp_traverse, reinterpret_cast<void*>(app_traverse)},
      {Py_tp_clear, reinterpret_cast<void*>(app_clear)},
      {Py_tp_dealloc, reinterpret_cast<void*>(&gc_dealloc<app_clear>)},
      {0, nullptr},
  };
  static PyType_Spec spec = {"pyrometer._native.WsgiApp", sizeof(WsgiApp), 0,
                             Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
                             slots};
  static PyType_Slot method_slots[] = {
      {Py_tp_call, reinterpret_cast<void*>(PyVectorcall_Call)},
      {Py_tp_descr_get, reinterpret_cast<void*>(bind_as_method)},
      {Py_tp_getattro, reinterpret_cast<void*>(app_getattro)},
      {Py_tp_members, kAppMembers},
      {Py_tp_traverse, reinterpret_cast<void*>(app_traverse)},
      {Py_tp_clear, reinterpret_cast<void*>(app_clear)},
      {Py_tp_dealloc, reinterpret_cast<void*>(&gc_dealloc<app_clear>)},
      {0, nullptr},
  };
  static PyType_Spec method_spec = {"pyrometer._native.WsgiMethod", sizeof(WsgiApp), 0,
                                    kMethodDescriptorFlags, method_slots};
  g_app_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&spec));
  if (g_app_type == nullptr) throw nanobind::python_error();
  g_app_type->tp_new = nullptr;  // made only by wsgi_app
  g_method_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&method_spec));
  if (g_method_type == nullptr) throw nanobind::python_error();
  g_method_type->tp_new = nullptr;  // made only by wsgi_method
  if (PyModule_AddFunctions(m.ptr(), kFunctions) < 0) throw nanobind::python_error();
}

}  // namespace pyrometer::agent::py
