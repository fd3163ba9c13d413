// The WSGI response side of a traced request, in C:
// - wsgi_start_response(): the app's start_response, noting the status on the
//   span (a 5xx goes to a Python callback, which records a pending exception);
// - wsgi_body(): the app's response iterable, wrapped so that the request span
//   is current while the app produces each chunk and while it closes, and
//   ends when the server closes the body.
// They replace a Python closure and a generator that re-attached the span
// through three Python calls per chunk (BENCHMARKS.md, app throughput).
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <nanobind/nanobind.h>
#include <structmember.h>

#include <cstddef>

#include "agent/cpython/compat.h"
#include "agent/py_span.h"
#include "agent/py_wsgi.h"
#include "agent/span.h"
#include "agent/tracer.h"

namespace pyrometer::agent::py {
namespace {

PyTypeObject* g_body_type = nullptr;
PyTypeObject* g_start_type = nullptr;
PyObject* g_str_close = nullptr;
PyObject* g_str_status_code = nullptr;

// ---- start_response ----------------------------------------------------------

struct StartResponse {
  PyObject_HEAD vectorcallfunc vectorcall;
  PyObject* start_response;  // the server's
  PySpan* span;
  PyObject* owner;      // the integration's request object: gets .status_code
  PyObject* on_status;  // on_status(owner, code) for a 5xx
};

// "200 OK" -> 200; -1 when the status does not start with 3 digits.
int64_t status_code_of(PyObject* status) {
  if (!PyUnicode_Check(status)) return -1;
  Py_ssize_t n;
  const char* text = PyUnicode_AsUTF8AndSize(status, &n);
  if (text == nullptr) {
    PyErr_Clear();
    return -1;
  }
  if (n < 3 || (n > 3 && text[3] != ' ')) return -1;
  int64_t code = 0;
  for (int i = 0; i < 3; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    code = code * 10 + (text[i] - '0');
  }
  return code;
}

void note_status(StartResponse* h, int64_t code) {
  if (code >= 500) {  // errors: the Python side records a pending exception or the code
    PyObject* r = PyObject_CallFunction(h->on_status, "OL", h->owner, static_cast<long long>(code));
    if (r == nullptr) {
      PyErr_Clear();
      count_internal_error();
    }
    Py_XDECREF(r);
    return;
  }
  PySpan* s = h->span;
  PYROMETER_BEGIN_CRITICAL(reinterpret_cast<PyObject*>(s))
  if (s->state != SpanState::kEnded) {
    upsert_attribute(s->rec.attributes, "http.response.status_code", AttrValue(code));
  }
  PYROMETER_END_CRITICAL()
  PyObject* value = PyLong_FromLongLong(code);
  if (value == nullptr || PyObject_SetAttr(h->owner, g_str_status_code, value) < 0) {
    PyErr_Clear();
    count_internal_error();
  }
  Py_XDECREF(value);
}

PyObject* start_call(PyObject* self, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  StartResponse* h = reinterpret_cast<StartResponse*>(self);
  if (PyVectorcall_NARGS(nargsf) >= 1) {
    const int64_t code = status_code_of(args[0]);
    if (code >= 0) {
      note_status(h, code);
    } else {
      count_internal_error();
    }
  }
  return PyObject_Vectorcall(h->start_response, args, nargsf, kwnames);
}

int start_traverse(PyObject* self, visitproc visit, void* arg) {
  StartResponse* h = reinterpret_cast<StartResponse*>(self);
  Py_VISIT(h->start_response);
  Py_VISIT(reinterpret_cast<PyObject*>(h->span));
  Py_VISIT(h->owner);
  Py_VISIT(h->on_status);
  Py_VISIT(Py_TYPE(self));
  return 0;
}

int start_clear(PyObject* self) {
  StartResponse* h = reinterpret_cast<StartResponse*>(self);
  Py_CLEAR(h->start_response);
  PyObject* span = reinterpret_cast<PyObject*>(h->span);
  h->span = nullptr;
  Py_XDECREF(span);
  Py_CLEAR(h->owner);
  Py_CLEAR(h->on_status);
  return 0;
}

PyMemberDef kStartMembers[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(StartResponse, vectorcall), READONLY, nullptr},
    {nullptr, 0, 0, 0, nullptr},
};

// wsgi_start_response(start_response, span, owner, on_status) -> callable
PyObject* py_wsgi_start_response(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 4 || !is_span(args[1])) {
    PyErr_SetString(PyExc_TypeError,
                    "wsgi_start_response(start_response, span: Span, owner, on_status)");
    return nullptr;
  }
  return new_wsgi_start_response(args[0], reinterpret_cast<PySpan*>(args[1]), args[2], args[3]);
}

// ---- the body ------------------------------------------------------------------

struct WsgiBody {
  PyObject_HEAD PyObject* result;  // the app's iterable (its close() is called at close)
  PyObject* iter;                  // iter(result), from the first __iter__/__next__
  PySpan* span;                    // NULL once ended
  PyObject* owner;                 // passed to on_error (the integration's request object)
  PyObject* on_error;              // on_error(owner, exc): records an exception on the span
  PyObject* context;               // the steps' Context (see enter_step), from the first step
};

// Makes the span current for one step of the app's code (a next() or the
// close()): the step runs in the body's own Context — a copy of the caller's
// at the first step, the span set in it once — entered for the step and
// exited after. Entering is a pointer swap, where a ContextVar set and reset
// per step cost a HAMT update, a token and a reset each (three steps for a
// one-chunk response). Context variables the app's code sets while it runs
// stay in that Context between its steps, as a task's would. Returns whether
// the Context was entered (exit_step must follow); a failure is counted and
// the step runs without the span current.
bool enter_step(WsgiBody* b) {
  if (b->span == nullptr) return false;
  if (b->context == nullptr) {
    PyObject* context = PyContext_CopyCurrent();
    if (context == nullptr || PyContext_Enter(context) < 0) {
      Py_XDECREF(context);
      PyErr_Clear();
      count_internal_error();
      return false;
    }
    Py_XDECREF(attach(reinterpret_cast<PyObject*>(b->span)));  // never reset: the Context is ours
    b->context = context;
  } else if (PyContext_Enter(b->context) < 0) {  // entered already: a step inside a step
    PyErr_Clear();
    count_internal_error();
    return false;
  }
  publish_span_root(b->span);
  return true;
}

// Leaves the Context enter_step entered; the app's exception, if one is
// raised, stays raised.
void exit_step(WsgiBody* b, bool entered) {
  if (!entered) return;
  PyObject* exc = take_raised_exception();
  if (PyContext_Exit(b->context) < 0) {
    PyErr_Clear();
    count_internal_error();
  }
  republish_current_root();
  restore_raised_exception(exc);
}

// The app raised (exception set): on_error records it, the exception stays.
void report(WsgiBody* b) {
  if (b->span == nullptr || b->on_error == nullptr) return;
  PyObject* exc = take_raised_exception();
  call_error_hook(b->on_error, b->owner, exc);
  restore_raised_exception(exc);
}

void end(WsgiBody* b) {
  PySpan* s = b->span;
  if (s == nullptr) return;
  b->span = nullptr;
  end_span(s);
  Py_DECREF(s);
}

PyObject* body_iter(PyObject* self) {
  WsgiBody* b = reinterpret_cast<WsgiBody*>(self);
  if (b->iter == nullptr && b->result != nullptr) {
    b->iter = PyObject_GetIter(b->result);
    if (b->iter == nullptr) return nullptr;
  }
  return Py_NewRef(self);
}

PyObject* body_next(PyObject* self) {
  WsgiBody* b = reinterpret_cast<WsgiBody*>(self);
  if (b->result == nullptr) return nullptr;  // closed: exhausted, like a closed generator
  if (b->iter == nullptr) {
    b->iter = PyObject_GetIter(b->result);
    if (b->iter == nullptr) return nullptr;
  }
  const bool entered = enter_step(b);
  PyObject* chunk = PyIter_Next(b->iter);
  if (chunk == nullptr && PyErr_Occurred() != nullptr) report(b);
  exit_step(b, entered);
  return chunk;
}

PyObject* body_close(PyObject* self, PyObject*) {
  WsgiBody* b = reinterpret_cast<WsgiBody*>(self);
  if (b->span == nullptr && b->result == nullptr) Py_RETURN_NONE;
  const bool entered = enter_step(b);
  PyObject* r = Py_NewRef(Py_None);
  PyObject* close = b->result != nullptr ? PyObject_GetAttr(b->result, g_str_close) : nullptr;
  if (close == nullptr) {
    PyErr_Clear();  // no close(): nothing to call
  } else {
    Py_SETREF(r, PyObject_CallNoArgs(close));
    Py_DECREF(close);
    if (r == nullptr) report(b);
  }
  exit_step(b, entered);
  PyObject* exc = r == nullptr ? take_raised_exception() : nullptr;
  end(b);
  Py_CLEAR(b->iter);
  Py_CLEAR(b->result);
  Py_CLEAR(b->context);
  if (r == nullptr) restore_raised_exception(exc);
  return r;
}

int body_traverse(PyObject* self, visitproc visit, void* arg) {
  WsgiBody* b = reinterpret_cast<WsgiBody*>(self);
  Py_VISIT(b->result);
  Py_VISIT(b->iter);
  Py_VISIT(reinterpret_cast<PyObject*>(b->span));
  Py_VISIT(b->owner);
  Py_VISIT(b->on_error);
  Py_VISIT(b->context);
  Py_VISIT(Py_TYPE(self));
  return 0;
}

int body_clear(PyObject* self) {
  WsgiBody* b = reinterpret_cast<WsgiBody*>(self);
  end(b);  // the server dropped the body without close(): the request is over anyway
  Py_CLEAR(b->result);
  Py_CLEAR(b->iter);
  Py_CLEAR(b->owner);
  Py_CLEAR(b->on_error);
  Py_CLEAR(b->context);
  return 0;
}

PyMethodDef kBodyMethods[] = {
    {"close", body_close, METH_NOARGS,
     "Closes the app's iterable (the span current meanwhile), then ends the span."},
    {nullptr, nullptr, 0, nullptr},
};

// wsgi_body(result, span, owner, on_error) -> iterable
PyObject* py_wsgi_body(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 4 || !is_span(args[1])) {
    PyErr_SetString(PyExc_TypeError, "wsgi_body(result, span: Span, owner, on_error)");
    return nullptr;
  }
  return new_wsgi_body(args[0], reinterpret_cast<PySpan*>(args[1]), args[2], args[3]);
}

PyMethodDef kFunctions[] = {
    {"wsgi_start_response", as_fastcall(py_wsgi_start_response), METH_FASTCALL,
     "wsgi_start_response(start_response, span, owner, on_status) -> callable: the server's "
     "start_response, the status noted on the span first."},
    {"wsgi_body", as_fastcall(py_wsgi_body), METH_FASTCALL,
     "wsgi_body(result, span, owner, on_error) -> iterable: the app's response, the span "
     "current while it runs, ended at close()."},
    {nullptr, nullptr, 0, nullptr},
};

}  // namespace

PyObject* new_wsgi_start_response(PyObject* start_response, PySpan* span, PyObject* owner,
                                  PyObject* on_status) {
  StartResponse* h = PyObject_GC_New(StartResponse, g_start_type);
  if (h == nullptr) return nullptr;
  h->vectorcall = start_call;
  h->start_response = Py_NewRef(start_response);
  h->span = reinterpret_cast<PySpan*>(Py_NewRef(reinterpret_cast<PyObject*>(span)));
  h->owner = Py_NewRef(owner);
  h->on_status = Py_NewRef(on_status);
  PyObject_GC_Track(reinterpret_cast<PyObject*>(h));
  return reinterpret_cast<PyObject*>(h);
}

PyObject* new_wsgi_body(PyObject* result, PySpan* span, PyObject* owner, PyObject* on_error) {
  WsgiBody* b = PyObject_GC_New(WsgiBody, g_body_type);
  if (b == nullptr) return nullptr;
  b->result = Py_NewRef(result);
  b->iter = nullptr;
  b->span = reinterpret_cast<PySpan*>(Py_NewRef(reinterpret_cast<PyObject*>(span)));
  b->owner = Py_NewRef(owner);
  b->on_error = Py_NewRef(on_error);
  b->context = nullptr;
  PyObject_GC_Track(reinterpret_cast<PyObject*>(b));
  return reinterpret_cast<PyObject*>(b);
}

void register_wsgi_response(nanobind::module_& m) {
  g_str_close = intern_name("close");
  g_str_status_code = intern_name("status_code");
  static PyType_Slot start_slots[] = {
      {Py_tp_call, reinterpret_cast<void*>(PyVectorcall_Call)},
      {Py_tp_members, kStartMembers},
      {Py_tp_traverse, reinterpret_cast<void*>(start_traverse)},
      {Py_tp_clear, reinterpret_cast<void*>(start_clear)},
      {Py_tp_dealloc, reinterpret_cast<void*>(&gc_dealloc<start_clear>)},
      {0, nullptr},
  };
  static PyType_Spec start_spec = {
      "pyrometer._native.WsgiStartResponse", sizeof(StartResponse), 0,
      Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL, start_slots};
  g_start_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&start_spec));
  if (g_start_type == nullptr) throw nanobind::python_error();
  g_start_type->tp_new = nullptr;
  static PyType_Slot slots[] = {
      {Py_tp_iter, reinterpret_cast<void*>(body_iter)},
      {Py_tp_iternext, reinterpret_cast<void*>(body_next)},
      {Py_tp_methods, kBodyMethods},
      {Py_tp_traverse, reinterpret_cast<void*>(body_traverse)},
      {Py_tp_clear, reinterpret_cast<void*>(body_clear)},
      {Py_tp_dealloc, reinterpret_cast<void*>(&gc_dealloc<body_clear>)},
      {0, nullptr},
  };
  static PyType_Spec spec = {"pyrometer._native.WsgiBody", sizeof(WsgiBody), 0,
                             Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC, slots};
  g_body_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&spec));
  if (g_body_type == nullptr) throw nanobind::python_error();
  g_body_type->tp_new = nullptr;  // made only by wsgi_body
  if (PyModule_AddFunctions(m.ptr(), kFunctions) < 0) throw nanobind::python_error();
}

}  // namespace pyrometer::agent::py
