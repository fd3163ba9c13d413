// pyrometer._native.Span: the span as a C type — its methods, properties and
// slots; the lifecycle (start/end/context) is in py_span_lifecycle.cc.
#define PY_SSIZE_T_CLEAN
#include "agent/py_span.h"

#include <Python.h>
#include <structmember.h>

#include <cstring>
#include <string>
#include <utility>

#include "agent/cpython/compat.h"
#include "agent/py_fast_method.h"
#include "agent/span.h"
#include "agent/thread_roots.h"
#include "agent/tracer.h"
#include "common/clock.h"

namespace pyrometer::agent::py {

PyTypeObject* g_span_type = nullptr;
PyObject* g_current_var = nullptr;

namespace {

using common::otlp::SpanKind;
using common::otlp::StatusCode;

PyObject* hex_str(const uint8_t* bytes, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  char buf[32];
  for (size_t i = 0; i < n; ++i) {
    buf[2 * i] = kDigits[bytes[i] >> 4];
    buf[2 * i + 1] = kDigits[bytes[i] & 15];
  }
  return PyUnicode_FromStringAndSize(buf, static_cast<Py_ssize_t>(2 * n));
}

// ---- lifecycle ------------------------------------------------------------

int span_traverse(PyObject* self, visitproc visit, void* arg) {
  PySpan* s = reinterpret_cast<PySpan*>(self);
  Py_VISIT(s->token);
  Py_VISIT(s->parent);
  Py_VISIT(s->request);
  Py_VISIT(Py_TYPE(self));  // heap type: instances keep it alive
  return 0;
}

int span_clear(PyObject* self) {
  PySpan* s = reinterpret_cast<PySpan*>(self);
  Py_CLEAR(s->token);
  Py_CLEAR(s->parent);
  Py_CLEAR(s->request);
  return 0;
}

void span_dealloc(PyObject* self) {
  PySpan* s = reinterpret_cast<PySpan*>(self);
  PyObject_GC_UnTrack(self);
  if (s->state == SpanState::kStarted) {
    tracer_counters().spans_abandoned.fetch_add(1, std::memory_order_relaxed);
  }
  Py_CLEAR(s->token);
  Py_CLEAR(s->parent);
  Py_CLEAR(s->request);
  Py_CLEAR(s->name);
  if (s->trace != nullptr) s->trace->unref();
  s->rec.~SpanRecord();
  PyTypeObject* tp = Py_TYPE(self);
  PyObject_GC_Del(self);
  Py_DECREF(tp);
}

// ---- context manager ----------------------------------------------------

}  // namespace

void exit_span(PySpan* s) {
  if (s->token != nullptr) {
    PyObject* token = s->token;
    s->token = nullptr;
    detach_span(s, token);
  }
  end_span(s);
}

namespace {

PyObject* span_enter(PyObject* self, PyObject* const*, Py_ssize_t) {
  PySpan* s = reinterpret_cast<PySpan*>(self);
  const bool fresh = s->state == SpanState::kCreated && s->parent == nullptr;
  if (s->state == SpanState::kCreated) start_span(s);
  if (s->token == nullptr && s->state == SpanState::kStarted) {
    s->token = attach_published(s);
    s->over_no_root = fresh && s->is_local_root;  // nothing ran between start and attach
  }
  return Py_NewRef(self);
}

PyObject* span_exit(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  PySpan* s = reinterpret_cast<PySpan*>(self);
  if (nargs >= 2 && args[1] != Py_None && s->state == SpanState::kStarted) {
    if (record_exception(s, args[1], nullptr, /*escaped=*/true) < 0) {
      PyErr_Clear();  // never replace the application's exception with ours
      count_internal_error();
    }
  }
  exit_span(s);
  Py_RETURN_FALSE;
}

// ---- methods ----------------------------------------------------------------

bool live(PySpan* s) { return s->state != SpanState::kEnded; }

PyObject* span_set_attribute(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 2) {
    PyErr_SetString(PyExc_TypeError, "set_attribute(key, value) takes 2 arguments");
    return nullptr;
  }
  if (!PyUnicode_Check(args[0])) {
    PyErr_SetString(PyExc_TypeError, "attribute key must be str");
    return nullptr;
  }
  PySpan* s = reinterpret_cast<PySpan*>(self);
  Py_ssize_t n;
  const char* key = PyUnicode_AsUTF8AndSize(args[0], &n);
  if (key == nullptr) return nullptr;
  AttrValue value;
  bool ok = to_attr_value(args[1], &value);
  if (ok) {
    PYROMETER_BEGIN_CRITICAL(self)
    ok = live(s) &&
         upsert_copied_attribute(s->rec.attributes, std::string_view(key, n), std::move(value));
    PYROMETER_END_CRITICAL()
  }
  if (!ok) tracer_counters().attributes_dropped.fetch_add(1, std::memory_order_relaxed);
  if (ok && s->is_local_root && n == 10 && std::memcmp(key, "http.route", 10) == 0) note_route(s);
  Py_RETURN_NONE;
}

PyObject* span_set_attributes(PyObject* self, PyObject* mapping) {
  PySpan* s = reinterpret_cast<PySpan*>(self);
  int rc = 0;
  PYROMETER_BEGIN_CRITICAL(self)
  if (live(s)) rc = add_attributes(s->rec.attributes, mapping);
  PYROMETER_END_CRITICAL()
  if (rc < 0) return nullptr;
  note_route(s);
  Py_RETURN_NONE;
}

PyObject* span_add_event(PyObject* self, PyObject* args, PyObject* kwargs) {
  static const char* kwlist[] = {"name", "attributes", nullptr};
  PyObject* name;
  PyObject* attrs = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "U|O:add_event", const_cast<char**>(kwlist), &name,
                                   &attrs)) {
    return nullptr;
  }
  PySpan* s = reinterpret_cast<PySpan*>(self);
  Py_ssize_t n;
  const char* text = PyUnicode_AsUTF8AndSize(name, &n);
  if (text == nullptr) return nullptr;
  EventRecord event;
  event.time_unix_nano = common::wall_unix_nano();
  event.name.assign(text, n);
  if (attrs != Py_None && add_attributes(event.attributes, attrs) < 0) return nullptr;
  bool ok = false;
  PYROMETER_BEGIN_CRITICAL(self)
  ok = live(s) && append_event(s->rec.events, std::move(event));
  PYROMETER_END_CRITICAL()
  if (!ok) tracer_counters().events_dropped.fetch_add(1, std::memory_order_relaxed);
  Py_RETURN_NONE;
}

// "unset" | "ok" | "error" (any case) or 0/1/2 (pyrometer.StatusCode).
int parse_status(PyObject* code, StatusCode* out) {
  if (PyUnicode_Check(code)) {
    const char* text = PyUnicode_AsUTF8(code);
    if (text == nullptr) return -1;
    if (strcasecmp(text, "unset") == 0)
      *out = StatusCode::kUnset;
    else if (strcasecmp(text, "ok") == 0)
      *out = StatusCode::kOk;
    else if (strcasecmp(text, "error") == 0)
      *out = StatusCode::kError;
    else
      goto bad;
    return 0;
  }
  if (PyLong_Check(code)) {
    long v = PyLong_AsLong(code);
    if (v < 0 || v > 2) goto bad;
    *out = static_cast<StatusCode>(v);
    return 0;
  }
bad:
  PyErr_SetString(PyExc_ValueError, "status must be 'unset', 'ok', 'error' or a StatusCode");
  return -1;
}

PyObject* span_set_status(PyObject* self, PyObject* args, PyObject* kwargs) {
  static const char* kwlist[] = {"code", "description", nullptr};
  PyObject* code;
  PyObject* description = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|O:set_status", const_cast<char**>(kwlist),
                                   &code, &description)) {
    return nullptr;
  }
  StatusCode status;
  if (parse_status(code, &status) < 0) return nullptr;
  std::string desc;
  if (description != Py_None) {
    PyObject* text = PyObject_Str(description);
    if (text == nullptr) return nullptr;
    const char* utf8 = PyUnicode_AsUTF8(text);
    if (utf8 != nullptr) desc = utf8;
    Py_DECREF(text);
    if (utf8 == nullptr) return nullptr;
  }
  PySpan* s = reinterpret_cast<PySpan*>(self);
  PYROMETER_BEGIN_CRITICAL(self)
  // OTel: OK is final; a description only goes with ERROR.
  if (live(s) && s->rec.status_code != StatusCode::kOk) {
    s->rec.status_code = status;
    s->rec.status_message = status == StatusCode::kError ? std::move(desc) : std::string();
  }
  PYROMETER_END_CRITICAL()
  Py_RETURN_NONE;
}

PyObject* span_record_exception(PyObject* self, PyObject* args, PyObject* kwargs) {
  static const char* kwlist[] = {"exception", "attributes", nullptr};
  PyObject* exc;
  PyObject* attrs = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|O:record_exception", const_cast<char**>(kwlist),
                                   &exc, &attrs)) {
    return nullptr;
  }
  if (!PyExceptionInstance_Check(exc)) {
    PyErr_SetString(PyExc_TypeError, "record_exception() needs an exception instance");
    return nullptr;
  }
  PySpan* s = reinterpret_cast<PySpan*>(self);
  if (live(s) && record_exception(s, exc, attrs == Py_None ? nullptr : attrs, false) < 0) {
    return nullptr;
  }
  Py_RETURN_NONE;
}

PyObject* span_end(PyObject* self, PyObject*) {
  PySpan* s = reinterpret_cast<PySpan*>(self);
  if (s->state == SpanState::kEnded) {
    tracer_counters().end_twice.fetch_add(1, std::memory_order_relaxed);
  }
  end_span(s);
  Py_RETURN_NONE;
}

PyObject* span_update_name(PyObject* self, PyObject* name) {
  if (!PyUnicode_Check(name)) {
    PyErr_SetString(PyExc_TypeError, "span name must be str");
    return nullptr;
  }
  PySpan* s = reinterpret_cast<PySpan*>(self);
  PYROMETER_BEGIN_CRITICAL(self)
  if (live(s)) Py_SETREF(s->name, Py_NewRef(name));
  PYROMETER_END_CRITICAL()
  Py_RETURN_NONE;
}

PyObject* span_call(PyObject* self, PyObject* args, PyObject* kwargs) {
  PyObject* func;
  if ((kwargs != nullptr && PyDict_GET_SIZE(kwargs) != 0) || PyTuple_GET_SIZE(args) != 1 ||
      !PyCallable_Check(func = PyTuple_GET_ITEM(args, 0))) {
    PyErr_SetString(PyExc_TypeError, "a Span used as a decorator takes one callable");
    return nullptr;
  }
  return make_decorator(reinterpret_cast<PySpan*>(self), func);
}

PyObject* span_repr(PyObject* self) {
  PySpan* s = reinterpret_cast<PySpan*>(self);
  static const char* kStates[] = {"created", "recording", "ended"};
  char ids[64] = "";
  static const char kDigits[] = "0123456789abcdef";
  for (int i = 0; i < 16; ++i) {
    ids[2 * i] = kDigits[s->rec.trace_id[i] >> 4];
    ids[2 * i + 1] = kDigits[s->rec.trace_id[i] & 15];
  }
  ids[32] = ' ';
  for (int i = 0; i < 8; ++i) {
    ids[33 + 2 * i] = kDigits[s->rec.span_id[i] >> 4];
    ids[34 + 2 * i] = kDigits[s->rec.span_id[i] & 15];
  }
  ids[49] = 0;
  return PyUnicode_FromFormat("<pyrometer.Span %R %s %s>", s->name ? s->name : Py_None,
                              kStates[static_cast<int>(s->state)], ids);
}

// ---- properties -----------------------------------------------------------

PyObject* get_trace_id(PyObject* self, void*) {
  return hex_str(reinterpret_cast<PySpan*>(self)->rec.trace_id, 16);
}
PyObject* get_span_id(PyObject* self, void*) {
  return hex_str(reinterpret_cast<PySpan*>(self)->rec.span_id, 8);
}
PyObject* get_parent_span_id(PyObject* self, void*) {
  PySpan* s = reinterpret_cast<PySpan*>(self);
  if (!s->rec.has_parent) Py_RETURN_NONE;
  return hex_str(s->rec.parent_span_id, 8);
}
PyObject* get_is_recording(PyObject* self, void*) {
  return PyBool_FromLong(reinterpret_cast<PySpan*>(self)->state == SpanState::kStarted);
}
PyObject* get_name(PyObject* self, void*) {
  return Py_NewRef(reinterpret_cast<PySpan*>(self)->name);
}
PyObject* get_kind(PyObject* self, void*) {
  return PyLong_FromLong(static_cast<long>(reinterpret_cast<PySpan*>(self)->rec.kind));
}
PyObject* get_sampled(PyObject* self, void*) {
  return PyBool_FromLong(reinterpret_cast<PySpan*>(self)->rec.trace_flags & 1);
}
PyObject* get_is_local_root(PyObject* self, void*) {
  return PyBool_FromLong(reinterpret_cast<PySpan*>(self)->is_local_root);
}

PyMethodDef kSpanMethods[] = {
    {"set_attribute", as_fastcall(span_set_attribute), METH_FASTCALL,
     "set_attribute(key, value): str/int/float/bool or a sequence of them."},
    {"set_attributes", span_set_attributes, METH_O, "set_attributes(mapping)"},
    {"add_event", as_fastcall(span_add_event), METH_VARARGS | METH_KEYWORDS,
     "add_event(name, attributes=None)"},
    {"set_status", as_fastcall(span_set_status), METH_VARARGS | METH_KEYWORDS,
     "set_status(code, description=None)"},
    {"record_exception", as_fastcall(span_record_exception), METH_VARARGS | METH_KEYWORDS,
     "record_exception(exception, attributes=None)"},
    {"end", span_end, METH_NOARGS, "Ends the span (idempotent)."},
    {"update_name", span_update_name, METH_O, "update_name(name)"},
    {nullptr, nullptr, 0, nullptr},
};

// As fast methods: `with` binds them on every use (py_fast_method.h).
const FastMethodDef kSpanFastMethods[] = {
    {"__enter__", span_enter, 0, 0, "Starts the span (if needed) and makes it current."},
    {"__exit__", span_exit, 3, 3,
     "Records an escaping exception, restores the context, ends the span."},
    {nullptr, nullptr, 0, 0, nullptr},
};

PyGetSetDef kSpanGetSet[] = {
    {"trace_id", get_trace_id, nullptr, "32 lowercase hex digits", nullptr},
    {"span_id", get_span_id, nullptr, "16 lowercase hex digits", nullptr},
    {"parent_span_id", get_parent_span_id, nullptr, "hex, or None for a root", nullptr},
    {"is_recording", get_is_recording, nullptr, "True between start and end", nullptr},
    {"name", get_name, nullptr, "the span name", nullptr},
    {"kind", get_kind, nullptr, "OTLP span kind number (pyrometer.SpanKind)", nullptr},
    {"sampled", get_sampled, nullptr, "the head-sampling decision of the trace", nullptr},
    {"is_local_root", get_is_local_root, nullptr, "first span of the trace here", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyType_Slot kSpanSlots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(span_dealloc)},
    {Py_tp_traverse, reinterpret_cast<void*>(span_traverse)},
    {Py_tp_clear, reinterpret_cast<void*>(span_clear)},
    {Py_tp_methods, kSpanMethods},
    {Py_tp_getset, kSpanGetSet},
    {Py_tp_call, reinterpret_cast<void*>(span_call)},
    {Py_tp_repr, reinterpret_cast<void*>(span_repr)},
    {Py_tp_doc, const_cast<char*>("A span: a context manager, a decorator, and a live record.")},
    {0, nullptr},
};

PyType_Spec kSpanSpec = {
    "pyrometer._native.Span",
    sizeof(PySpan),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    kSpanSlots,
};

}  // namespace

int init_span_types(PyObject* module) {
  if (init_span_lifecycle() < 0) return -1;
  g_span_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&kSpanSpec));
  if (g_span_type == nullptr) return -1;
  g_span_type->tp_new = nullptr;  // only span()/start_span() make them
  if (add_fast_methods(g_span_type, kSpanFastMethods) < 0) return -1;
  if (PyModule_AddObjectRef(module, "Span", reinterpret_cast<PyObject*>(g_span_type)) < 0) {
    return -1;
  }
  // Created once, with no default: "no current span" is a missing value.
  g_current_var = PyContextVar_New("pyrometer_current_span", nullptr);
  if (g_current_var == nullptr) return -1;
  return PyModule_AddObjectRef(module, "_current_span_var", g_current_var);
}

}  // namespace pyrometer::agent::py
