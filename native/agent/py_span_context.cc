// pyrometer._native.SpanContext: a remote parent extracted from W3C headers
// (traceparent, tracestate, baggage), passed as `parent=` to start a span.
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <cstring>
#include <string>
#include <utility>

#include "agent/cpython/compat.h"
#include "agent/py_span.h"

namespace pyrometer::agent::py {

PyTypeObject* g_span_context_type = nullptr;

namespace {

PyObject* hex(const uint8_t* b, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  char buf[32];
  for (size_t i = 0; i < n; ++i) {
    buf[2 * i] = kDigits[b[i] >> 4];
    buf[2 * i + 1] = kDigits[b[i] & 15];
  }
  return PyUnicode_FromStringAndSize(buf, static_cast<Py_ssize_t>(2 * n));
}

void ctx_dealloc(PyObject* self) {
  PySpanContext* c = reinterpret_cast<PySpanContext*>(self);
  delete c->trace_state;
  delete c->baggage;
  PyTypeObject* tp = Py_TYPE(self);
  PyObject_Free(self);
  Py_DECREF(tp);
}

PyObject* get_trace_id(PyObject* self, void*) {
  return hex(reinterpret_cast<PySpanContext*>(self)->trace_id, 16);
}
PyObject* get_span_id(PyObject* self, void*) {
  return hex(reinterpret_cast<PySpanContext*>(self)->span_id, 8);
}
PyObject* get_trace_flags(PyObject* self, void*) {
  return PyLong_FromLong(reinterpret_cast<PySpanContext*>(self)->flags);
}
PyObject* get_sampled(PyObject* self, void*) {
  return PyBool_FromLong(reinterpret_cast<PySpanContext*>(self)->flags & 1);
}
PyObject* get_trace_state(PyObject* self, void*) {
  const std::string& s = *reinterpret_cast<PySpanContext*>(self)->trace_state;
  return PyUnicode_FromStringAndSize(s.data(), static_cast<Py_ssize_t>(s.size()));
}
PyObject* get_baggage(PyObject* self, void*) {
  const std::string& s = *reinterpret_cast<PySpanContext*>(self)->baggage;
  return PyUnicode_FromStringAndSize(s.data(), static_cast<Py_ssize_t>(s.size()));
}

PyObject* ctx_repr(PyObject* self) {
  PySpanContext* c = reinterpret_cast<PySpanContext*>(self);
  PyObject* t = hex(c->trace_id, 16);
  PyObject* s = hex(c->span_id, 8);
  PyObject* r = (t && s) ? PyUnicode_FromFormat("<pyrometer.SpanContext %U %U flags=%02x>", t, s,
                                                static_cast<unsigned>(c->flags))
                         : nullptr;
  Py_XDECREF(t);
  Py_XDECREF(s);
  return r;
}

PyGetSetDef kGetSet[] = {
    {"trace_id", get_trace_id, nullptr, "32 lowercase hex digits", nullptr},
    {"span_id", get_span_id, nullptr, "the remote parent span id, 16 hex digits", nullptr},
    {"trace_flags", get_trace_flags, nullptr, "W3C trace flags", nullptr},
    {"sampled", get_sampled, nullptr, "the remote sampled flag", nullptr},
    {"trace_state", get_trace_state, nullptr, "tracestate header ('' if none)", nullptr},
    {"baggage", get_baggage, nullptr, "baggage header ('' if none)", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyType_Slot kSlots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(ctx_dealloc)},
    {Py_tp_getset, kGetSet},
    {Py_tp_repr, reinterpret_cast<void*>(ctx_repr)},
    {Py_tp_doc, const_cast<char*>("A remote parent from W3C headers; see extract().")},
    {0, nullptr},
};

PyType_Spec kSpec = {"pyrometer._native.SpanContext", sizeof(PySpanContext), 0, Py_TPFLAGS_DEFAULT,
                     kSlots};

}  // namespace

PyObject* new_span_context(const uint8_t trace_id[16], const uint8_t span_id[8], uint8_t flags,
                           std::string trace_state, std::string baggage) {
  PySpanContext* c = PyObject_New(PySpanContext, g_span_context_type);
  if (c == nullptr) return nullptr;
  std::memcpy(c->trace_id, trace_id, 16);
  std::memcpy(c->span_id, span_id, 8);
  c->flags = flags;
  c->trace_state = new std::string(std::move(trace_state));
  c->baggage = new std::string(std::move(baggage));
  return reinterpret_cast<PyObject*>(c);
}

int init_span_context_type(PyObject* module) {
  g_span_context_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&kSpec));
  if (g_span_context_type == nullptr) return -1;
  g_span_context_type->tp_new = nullptr;  // only extract() makes them
  return PyModule_AddObjectRef(module, "SpanContext",
                               reinterpret_cast<PyObject*>(g_span_context_type));
}

}  // namespace pyrometer::agent::py
