// trace_asgi(): one traced ASGI "http" request with no Python frame of ours
// on the request's path. It starts the request span (py_http_server.cc),
// calls the app with a C `send` hook that notes the response status and
// returns the server's own awaitable, and returns an awaitable (AsgiCall)
// that drives the app's coroutine and ends the span when it finishes. The
// Python layer this replaces (an async wrapper, a send closure, the finish
// helper) cost ~20 µs of CPU per request under uvicorn (BENCHMARKS.md).
//
// AsgiCall is a coroutine-like proxy: __await__ returns itself; send, throw,
// close and am_send forward to the app's awaitable. Exceptions pass through
// unchanged; on the way they are recorded by the Python `on_error` callback
// (structured stack, locals), and the span then ends with status 500 unless
// a response had started.
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <nanobind/nanobind.h>
#include <structmember.h>

#include <cstddef>

#include "agent/cpython/compat.h"
#include "agent/py_asgi.h"
#include "agent/py_http_server.h"
#include "agent/py_span.h"
#include "agent/tracer.h"

namespace pyrometer::agent::py {

#if PY_VERSION_HEX >= 0x030A0000  // needs PyIter_Send / am_send (3.10+)
namespace {
PyObject* g_str_http = nullptr;

PyTypeObject* g_hook_type = nullptr;
PyTypeObject* g_call_type = nullptr;
PyObject* g_str_type = nullptr;
PyObject* g_str_status = nullptr;
PyObject* g_str_route = nullptr;
PyObject* g_str_path = nullptr;
PyObject* g_str_root_path = nullptr;
PyObject* g_str_response_start = nullptr;
PyObject* g_str_throw = nullptr;
PyObject* g_str_close = nullptr;
PyObject* g_str_send = nullptr;

// ---- the send hook ---------------------------------------------------------

// Called as the app's `send`: notes the status of "http.response.start" and
// returns the server's send(message) awaitable itself (no frame of ours).
struct SendHook {
  PyObject_HEAD vectorcallfunc vectorcall;
  PyObject* send;
  int64_t status;  // -1 until the response starts
};

PyObject* hook_call(PyObject* self, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  SendHook* h = reinterpret_cast<SendHook*>(self);
  const Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  if (nargs == 1 && kwnames == nullptr && h->status < 0 && PyDict_Check(args[0])) {
    PyObject* type = PyDict_GetItemWithError(args[0], g_str_type);
    if (type != nullptr &&
        (type == g_str_response_start ||
         (PyUnicode_Check(type) && PyUnicode_Compare(type, g_str_response_start) == 0))) {
      PyObject* status = PyDict_GetItemWithError(args[0], g_str_status);
      long long v = status != nullptr && PyLong_Check(status) ? PyLong_AsLongLong(status) : -1;
      if (v >= 0 && v <= 999) {
        h->status = v;
      } else {
        count_internal_error();
      }
    }
    PyErr_Clear();  // a lookup error is ours to ignore, never the app's
  }
  return PyObject_Vectorcall(h->send, args, nargsf, kwnames);
}

int hook_traverse(PyObject* self, visitproc visit, void* arg) {
  Py_VISIT(reinterpret_cast<SendHook*>(self)->send);
  Py_VISIT(Py_TYPE(self));
  return 0;
}

int hook_clear(PyObject* self) {
  Py_CLEAR(reinterpret_cast<SendHook*>(self)->send);
  return 0;
}

PyMemberDef kHookMembers[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(SendHook, vectorcall), READONLY, nullptr},
    {nullptr, 0, 0, 0, nullptr},
};

// ---- the awaitable -----------------------------------------------------------

// States: created (args held, nothing started) -> running (inner set; span
// set when traced) -> done (inner and span cleared).
struct AsgiCall {
  PyObject_HEAD PyObject* args[4];  // owner (or NULL), scope, receive, send: until started
  PyObject* func;                   // until started
  PyObject* inner;                  // the app's awaitable iterator while running
  PySpan* span;                     // the request span while running, if traced
  PyObject* scope;
  PyObject* root_path;  // scope["root_path"] when the request started
  SendHook* hook;
  PyObject* on_error;  // on_error(span, exc): records exc on the span
  bool started;
};

// The route template from scope["route"].path; under a Mount, prefixed with
// what the mounts added to root_path since the request started. New ref or NULL.
PyObject* route_of(AsgiCall* c) {
  if (!PyDict_Check(c->scope)) return nullptr;
  PyObject* route = PyDict_GetItemWithError(c->scope, g_str_route);
  if (route == nullptr) {
    PyErr_Clear();
    return nullptr;
  }
  PyObject* path = PyObject_GetAttr(route, g_str_path);
  if (path == nullptr || !PyUnicode_Check(path)) {
    PyErr_Clear();
    Py_XDECREF(path);
    return nullptr;
  }
  PyObject* mounted = PyDict_GetItemWithError(c->scope, g_str_root_path);
  if (mounted == nullptr || !PyUnicode_Check(mounted) || c->root_path == nullptr ||
      PyUnicode_Compare(mounted, c->root_path) == 0) {
    PyErr_Clear();
    return path;
  }
  const Py_ssize_t base = PyUnicode_GET_LENGTH(c->root_path);
  if (PyUnicode_Tailmatch(mounted, c->root_path, 0, base, -1) != 1) return path;
  PyObject* prefix = PyUnicode_Substring(mounted, base, PyUnicode_GET_LENGTH(mounted));
  if (prefix == nullptr) {
    PyErr_Clear();
    return path;
  }
  PyObject* out = path;
  if (PyUnicode_GET_LENGTH(prefix) > 0 &&
      PyUnicode_Tailmatch(path, prefix, 0, PyUnicode_GET_LENGTH(prefix), -1) != 1) {
    out = PyUnicode_Concat(prefix, path);
    Py_DECREF(path);
    if (out == nullptr) PyErr_Clear();
  }
  Py_DECREF(prefix);
  return out;
}

// Ends the span (once): status from the hook, or `fallback_status` if no
// response started; route from the scope.
void finish(AsgiCall* c, int64_t fallback_status) {
  PySpan* s = c->span;
  if (s == nullptr) return;
  c->span = nullptr;
  int64_t status = c->hook != nullptr && c->hook->status >= 0 ? c->hook->status : fallback_status;
  PyObject* route = route_of(c);
  finish_request_span(s, status, route);
  Py_XDECREF(route);
  Py_DECREF(s);
}

// The app raised (the exception is set): record it through on_error, end the
// span with 500 unless a response started, and leave the exception set.
void finish_with_error(AsgiCall* c) {
  if (c->span == nullptr) return;
  PyObject* exc = take_raised_exception();
  if (exc != nullptr && c->on_error != nullptr && c->on_error != Py_None) {
    call_error_hook(c->on_error, reinterpret_cast<PyObject*>(c->span), exc);
  }
  finish(c, 500);
  restore_raised_exception(exc);
}

// After the inner iterator raised: StopIteration means the app returned.
void after_raise(AsgiCall* c) {
  if (PyErr_ExceptionMatches(PyExc_StopIteration)) {
    PyObject* stop = take_raised_exception();  // finish() must not see or clear it
    finish(c, -1);
    restore_raised_exception(stop);
  } else {
    finish_with_error(c);
  }
}

// True when the current span is a started SERVER local root: an outer layer
// already traces this request (a mounted sub-app, a generic ASGI wrapper).
bool in_server_request() {
  PyObject* cur = current_span_new_ref();
  if (cur == nullptr) return false;
  PySpan* s = reinterpret_cast<PySpan*>(cur);
  bool yes = is_span(cur) && s->is_local_root && s->state == SpanState::kStarted &&
             s->rec.kind == common::otlp::SpanKind::kServer;
  Py_DECREF(cur);
  return yes;
}

void release_args(AsgiCall* c) {
  for (PyObject*& a : c->args) Py_CLEAR(a);
  Py_CLEAR(c->func);
}

// On the first resume, in the awaiting task's context: starts the span
// (unless the agent is off or an outer request span is current), makes it
// current, calls the app with the send hook and takes its awaitable's
// iterator. 0, or -1 with the app's exception set (the span then ended).
int start(AsgiCall* c) {
  c->started = true;
  const bool traced = noop_span() == nullptr && !in_server_request();
  if (traced) {
    c->hook = PyObject_GC_New(SendHook, g_hook_type);
    if (c->hook == nullptr) {
      release_args(c);
      return -1;
    }
    c->hook->vectorcall = hook_call;
    c->hook->send = Py_NewRef(c->args[3]);
    c->hook->status = -1;
    PyObject_GC_Track(reinterpret_cast<PyObject*>(c->hook));
    c->span = start_request_span(c->scope);
    if (c->span == nullptr) {
      release_args(c);
      return -1;
    }
    PyObject* root = PyDict_GetItemWithError(c->scope, g_str_root_path);
    PyErr_Clear();
    c->root_path = root != nullptr && PyUnicode_Check(root) ? Py_NewRef(root) : nullptr;
    Py_SETREF(c->args[3], Py_NewRef(reinterpret_cast<PyObject*>(c->hook)));
  }
  const int skip = c->args[0] == nullptr ? 1 : 0;
  PyObject* awaitable = PyObject_Vectorcall(c->func, c->args + skip, 4 - skip, nullptr);
  release_args(c);
  if (awaitable != nullptr && PyCoro_CheckExact(awaitable)) {
    c->inner = awaitable;  // a coroutine is its own iterator
  } else if (awaitable != nullptr) {
    PyAsyncMethods* am = Py_TYPE(awaitable)->tp_as_async;
    if (am == nullptr || am->am_await == nullptr) {
      PyErr_Format(PyExc_TypeError, "ASGI app returned a non-awaitable %.100s",
                   Py_TYPE(awaitable)->tp_name);
    } else {
      c->inner = am->am_await(awaitable);
    }
    Py_DECREF(awaitable);
  }
  if (c->inner != nullptr) return 0;
  finish_with_error(c);
  return -1;
}

PySendResult call_am_send(PyObject* self, PyObject* arg, PyObject** result) {
  AsgiCall* c = reinterpret_cast<AsgiCall*>(self);
  *result = nullptr;
  if (!c->started) {
    if (arg != Py_None) {
      PyErr_SetString(PyExc_TypeError, "can't send non-None value to a just-started coroutine");
      return PYGEN_ERROR;
    }
    if (start(c) < 0) return PYGEN_ERROR;
  }
  if (c->inner == nullptr) {
    PyErr_SetString(PyExc_RuntimeError, "cannot reuse already awaited coroutine");
    return PYGEN_ERROR;
  }
  PySendResult r = PyIter_Send(c->inner, arg, result);
  if (r == PYGEN_RETURN) {
    finish(c, -1);
    Py_CLEAR(c->inner);
  } else if (r == PYGEN_ERROR) {
    finish_with_error(c);
    Py_CLEAR(c->inner);
  }
  return r;
}

// StopIteration(value) for a return through the iterator protocol.
void set_stop_iteration(PyObject* value) {
  if (value == Py_None) {
    PyErr_SetNone(PyExc_StopIteration);
    return;
  }
  PyObject* e = PyObject_CallOneArg(PyExc_StopIteration, value);
  if (e != nullptr) {
    PyErr_SetObject(PyExc_StopIteration, e);
    Py_DECREF(e);
  }
}

PyObject* call_send(PyObject* self, PyObject* arg) {
  PyObject* result = nullptr;
  switch (call_am_send(self, arg, &result)) {
    case PYGEN_NEXT:
      return result;
    case PYGEN_RETURN:
      set_stop_iteration(result);
      Py_DECREF(result);
      return nullptr;
    default:
      return nullptr;
  }
}

PyObject* call_iternext(PyObject* self) {
  PyObject* result = nullptr;
  switch (call_am_send(self, Py_None, &result)) {
    case PYGEN_NEXT:
      return result;
    case PYGEN_RETURN:
      if (result != Py_None) set_stop_iteration(result);
      Py_DECREF(result);
      return nullptr;
    default:
      return nullptr;
  }
}

PyObject* call_throw(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  AsgiCall* c = reinterpret_cast<AsgiCall*>(self);
  if (!c->started && start(c) < 0) return nullptr;  // the app runs, then gets the exception
  if (c->inner == nullptr) {
    PyErr_SetString(PyExc_RuntimeError, "cannot reuse already awaited coroutine");
    return nullptr;
  }
  PyObject* method = PyObject_GetAttr(c->inner, g_str_throw);
  if (method == nullptr) return nullptr;
  PyObject* r = PyObject_Vectorcall(method, args, static_cast<size_t>(nargs), nullptr);
  Py_DECREF(method);
  if (r == nullptr) {
    after_raise(c);
    Py_CLEAR(c->inner);
  }
  return r;
}

PyObject* call_close(PyObject* self, PyObject*) {
  AsgiCall* c = reinterpret_cast<AsgiCall*>(self);
  c->started = true;  // closed before it ran: the app is never called
  release_args(c);
  if (c->inner == nullptr) Py_RETURN_NONE;
  PyObject* r = PyObject_CallMethodNoArgs(c->inner, g_str_close);
  if (r == nullptr) {
    after_raise(c);
  } else {
    finish(c, -1);  // closed before it finished: no response status to report
  }
  Py_CLEAR(c->inner);
  return r;
}

PyObject* call_await(PyObject* self) { return Py_NewRef(self); }

int call_traverse(PyObject* self, visitproc visit, void* arg) {
  AsgiCall* c = reinterpret_cast<AsgiCall*>(self);
  for (PyObject* a : c->args) Py_VISIT(a);
  Py_VISIT(c->func);
  Py_VISIT(c->inner);
  Py_VISIT(reinterpret_cast<PyObject*>(c->span));
  Py_VISIT(c->scope);
  Py_VISIT(c->root_path);
  Py_VISIT(reinterpret_cast<PyObject*>(c->hook));
  Py_VISIT(c->on_error);
  Py_VISIT(Py_TYPE(self));
  return 0;
}

int call_clear(PyObject* self) {
  AsgiCall* c = reinterpret_cast<AsgiCall*>(self);
  release_args(c);
  Py_CLEAR(c->inner);
  PyObject* span = reinterpret_cast<PyObject*>(c->span);
  c->span = nullptr;
  if (span != nullptr) {
    // Dropped while running (abandoned by its awaiter): end the span
    // without touching the context, which may not be the request's now.
    PySpan* s = reinterpret_cast<PySpan*>(span);
    Py_CLEAR(s->token);
    end_span(s);
    Py_DECREF(span);
  }
  Py_CLEAR(c->scope);
  Py_CLEAR(c->root_path);
  PyObject* hook = reinterpret_cast<PyObject*>(c->hook);
  c->hook = nullptr;
  Py_XDECREF(hook);
  Py_CLEAR(c->on_error);
  return 0;
}

PyMethodDef kCallMethods[] = {
    {"send", call_send, METH_O, "Sends a value into the app's coroutine."},
    {"throw", as_fastcall(call_throw), METH_FASTCALL,
     "Raises an exception inside the app's coroutine."},
    {"close", call_close, METH_NOARGS, "Closes the app's coroutine."},
    {nullptr, nullptr, 0, nullptr},
};

// trace_asgi(func, owner, scope, receive, send, on_error) -> awaitable (py_asgi.h).
PyObject* py_trace_asgi(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 6) {
    PyErr_SetString(PyExc_TypeError, "trace_asgi(func, owner, scope, receive, send, on_error)");
    return nullptr;
  }
  return trace_asgi(args[0], args[1], args[2], args[3], args[4], args[5]);
}

}  // namespace

bool is_http_scope(PyObject* scope) {
  if (!PyDict_Check(scope)) return false;
  PyObject* type = PyDict_GetItemWithError(scope, g_str_type);  // borrowed
  if (type == nullptr) {
    PyErr_Clear();
    return false;
  }
  return type == g_str_http ||
         (PyUnicode_Check(type) && PyUnicode_CompareWithASCIIString(type, "http") == 0);
}

PyObject* trace_asgi(PyObject* func, PyObject* owner, PyObject* scope, PyObject* receive,
                     PyObject* send, PyObject* on_error) {
  // func(owner, scope, receive, send), or func(scope, receive, send) when
  // owner is None: the arguments start at call_args + skip.
  PyObject* call_args[4] = {owner, scope, receive, send};
  const int skip = owner == Py_None ? 1 : 0;
  if (!is_http_scope(scope) || noop_span() != nullptr) {
    return PyObject_Vectorcall(func, call_args + skip, 4 - skip, nullptr);
  }
  AsgiCall* c = PyObject_GC_New(AsgiCall, g_call_type);
  if (c == nullptr) return nullptr;
  c->args[0] = skip ? nullptr : Py_NewRef(owner);
  for (int i = 1; i < 4; ++i) c->args[i] = Py_NewRef(call_args[i]);
  c->func = Py_NewRef(func);
  c->inner = nullptr;
  c->span = nullptr;
  c->scope = Py_NewRef(scope);
  c->root_path = nullptr;
  c->hook = nullptr;
  c->on_error = Py_NewRef(on_error);
  c->started = false;
  PyObject_GC_Track(reinterpret_cast<PyObject*>(c));
  return reinterpret_cast<PyObject*>(c);
}

namespace {

PyMethodDef kFunctions[] = {
    {"trace_asgi", as_fastcall(py_trace_asgi), METH_FASTCALL,
     "trace_asgi(func, owner, scope, receive, send, on_error) -> awaitable: one traced "
     "ASGI http request."},
    {nullptr, nullptr, 0, nullptr},
};

}  // namespace

void register_asgi_call(nanobind::module_& m) {
  g_str_type = intern_name("type");
  g_str_http = intern_name("http");
  g_str_status = intern_name("status");
  g_str_route = intern_name("route");
  g_str_path = intern_name("path");
  g_str_root_path = intern_name("root_path");
  g_str_response_start = intern_name("http.response.start");
  g_str_throw = intern_name("throw");
  g_str_close = intern_name("close");
  g_str_send = intern_name("send");

  static PyType_Slot hook_slots[] = {
      {Py_tp_call, reinterpret_cast<void*>(PyVectorcall_Call)},
      {Py_tp_members, kHookMembers},
      {Py_tp_traverse, reinterpret_cast<void*>(hook_traverse)},
      {Py_tp_clear, reinterpret_cast<void*>(hook_clear)},
      {Py_tp_dealloc, reinterpret_cast<void*>(&gc_dealloc<hook_clear>)},
      {0, nullptr},
  };
  static PyType_Spec hook_spec = {
      "pyrometer._native.AsgiSend", sizeof(SendHook), 0,
      Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL, hook_slots};
  static PyType_Slot call_slots[] = {
      {Py_am_await, reinterpret_cast<void*>(call_await)},
      {Py_am_send, reinterpret_cast<void*>(call_am_send)},
      {Py_tp_iter, reinterpret_cast<void*>(PyObject_SelfIter)},
      {Py_tp_iternext, reinterpret_cast<void*>(call_iternext)},
      {Py_tp_methods, kCallMethods},
      {Py_tp_traverse, reinterpret_cast<void*>(call_traverse)},
      {Py_tp_clear, reinterpret_cast<void*>(call_clear)},
      {Py_tp_dealloc, reinterpret_cast<void*>(&gc_dealloc<call_clear>)},
      {0, nullptr},
  };
  static PyType_Spec call_spec = {"pyrometer._native.AsgiCall", sizeof(AsgiCall), 0,
                                  Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC, call_slots};
  g_hook_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&hook_spec));
  g_call_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&call_spec));
  if (g_hook_type == nullptr || g_call_type == nullptr) throw nanobind::python_error();
  g_hook_type->tp_new = nullptr;  // made only by trace_asgi
  g_call_type->tp_new = nullptr;
  if (PyModule_AddFunctions(m.ptr(), kFunctions) < 0) throw nanobind::python_error();
}
#else
// Before 3.10 the Python ASGI layer (integrations/asgi.py) traces requests.
void register_asgi_call(nanobind::module_&) {}
#endif

}  // namespace pyrometer::agent::py
