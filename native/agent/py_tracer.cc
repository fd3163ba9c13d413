// The tracer's module-level entry points in pyrometer._native: span() (a raw
// vectorcall function), context, W3C propagation, configuration, test hooks.
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <nanobind/nanobind.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/cpython/compat.h"
#include "agent/debug_capture.h"
#include "agent/exception_capture.h"
#include "agent/local_trace.h"
#include "agent/py_span.h"
#include "agent/route_table.h"
#include "agent/thread_roots.h"
#include "agent/tracer.h"
#include "common/baggage.h"
#include "common/traceparent.h"

namespace pyrometer::agent::py {
namespace {

// When set (agent disabled), span() returns it. Replaced values are leaked on
// purpose: another thread may be returning the old one right now.
std::atomic<PyObject*> g_noop{nullptr};
PyObject* g_kw[4];  // interned "name", "kind", "attributes", "parent"

// Matches keyword names of span()/start_span(): 0..3 or -1.
int keyword_index(PyObject* key) {
  for (int i = 0; i < 4; ++i) {
    if (key == g_kw[i]) return i;
  }
  for (int i = 0; i < 4; ++i) {
    if (PyUnicode_Compare(key, g_kw[i]) == 0) return i;
  }
  return -1;
}

// Parses (name, kind, attributes, *, parent) from a vectorcall. 0 or -1.
int parse_span_args(const char* fname, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames,
                    PyObject* out[4]) {
  out[0] = out[1] = out[2] = out[3] = nullptr;
  if (nargs > 3) {
    PyErr_Format(PyExc_TypeError, "%s() takes at most 3 positional arguments", fname);
    return -1;
  }
  for (Py_ssize_t i = 0; i < nargs; ++i) out[i] = args[i];
  if (kwnames != nullptr) {
    const Py_ssize_t nk = PyTuple_GET_SIZE(kwnames);
    for (Py_ssize_t i = 0; i < nk; ++i) {
      const int idx = keyword_index(PyTuple_GET_ITEM(kwnames, i));
      if (idx < 0 || out[idx] != nullptr) {
        PyErr_Format(PyExc_TypeError, "%s() got an unexpected or repeated keyword %R", fname,
                     PyTuple_GET_ITEM(kwnames, i));
        return -1;
      }
      out[idx] = args[nargs + i];
    }
  }
  return 0;
}

// span(name, kind="internal", attributes=None, *, parent=None)
PyObject* py_span(PyObject*, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  PyObject* a[4];
  if (parse_span_args("span", args, nargs, kwnames, a) < 0) return nullptr;
  PyObject* name = a[0];
  if (name != nullptr && !PyUnicode_Check(name) && name != Py_None) {
    // Bare decorator: @pyrometer.span
    if (PyCallable_Check(name) && a[1] == nullptr && a[2] == nullptr && a[3] == nullptr) {
      if (g_noop.load(std::memory_order_acquire) != nullptr) return Py_NewRef(name);
      return make_decorator(nullptr, name);
    }
    PyErr_SetString(PyExc_TypeError, "span name must be str");
    return nullptr;
  }
  if (PyObject* noop = g_noop.load(std::memory_order_acquire)) return Py_NewRef(noop);
  return reinterpret_cast<PyObject*>(new_span(name ? name : Py_None, a[1], a[2], a[3]));
}

// start_span(name, kind="internal", attributes=None, *, parent=None): started, not current.
PyObject* py_start_span(PyObject*, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  PyObject* a[4];
  if (parse_span_args("start_span", args, nargs, kwnames, a) < 0) {
    return nullptr;
  }
  if (a[0] == nullptr || !PyUnicode_Check(a[0])) {
    PyErr_SetString(PyExc_TypeError, "start_span() needs a str name");
    return nullptr;
  }
  if (PyObject* noop = g_noop.load(std::memory_order_acquire)) return Py_NewRef(noop);
  PySpan* s = new_span(a[0], a[1], a[2], a[3]);
  if (s != nullptr) start_span(s);
  return reinterpret_cast<PyObject*>(s);
}

PyObject* py_current_span(PyObject*, PyObject*) {
  PyObject* s = current_span_new_ref();
  return s != nullptr ? s : Py_NewRef(Py_None);
}

PyObject* py_attach(PyObject*, PyObject* span) {
  if (!is_span(span)) {
    PyErr_SetString(PyExc_TypeError, "attach() needs a Span");
    return nullptr;
  }
  PyObject* token = attach_published(reinterpret_cast<PySpan*>(span));
  return token != nullptr ? token : Py_NewRef(Py_None);
}

PyObject* py_detach(PyObject*, PyObject* token) {
  if (token != Py_None) detach(token);
  republish_current_root();
  Py_RETURN_NONE;
}

// set_root_attribute(key, value) -> bool: on the current local root (applied at its end).
PyObject* py_set_root_attribute(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 2 || !PyUnicode_Check(args[0])) {
    PyErr_SetString(PyExc_TypeError, "set_root_attribute(key: str, value)");
    return nullptr;
  }
  PyObject* cur = current_span_new_ref();
  if (cur == nullptr) Py_RETURN_FALSE;
  bool ok = false;
  PySpan* s = reinterpret_cast<PySpan*>(cur);
  if (is_span(cur) && s->trace != nullptr) {
    Py_ssize_t n;
    const char* key = PyUnicode_AsUTF8AndSize(args[0], &n);
    AttrValue value;
    if (key == nullptr) {
      Py_DECREF(cur);
      return nullptr;
    }
    ok =
        to_attr_value(args[1], &value) &&
        s->trace->add_root_attribute(std::string_view(key, n), std::move(value), fork_generation());
  }
  Py_DECREF(cur);
  return PyBool_FromLong(ok);
}

// extract(traceparent, tracestate=None, baggage=None) -> SpanContext | None
PyObject* py_extract(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs < 1 || nargs > 3) {
    PyErr_SetString(PyExc_TypeError, "extract(traceparent, tracestate=None, baggage=None)");
    return nullptr;
  }
  auto ctx =
      common::extract_trace_context(utf8_view(args[0]), utf8_view(nargs > 1 ? args[1] : nullptr));
  if (!ctx) Py_RETURN_NONE;
  std::string baggage;
  if (nargs > 2) {
    std::string_view raw = utf8_view(args[2]);
    if (!raw.empty()) {
      common::Baggage parsed = common::Baggage::parse(raw);
      if (!parsed.empty()) baggage = parsed.to_header();
    }
  }
  return new_span_context(ctx->parent.trace_id.bytes().data(), ctx->parent.parent_id.bytes().data(),
                          ctx->parent.flags, ctx->state.to_header(), std::move(baggage));
}

// inject() -> (traceparent, tracestate, baggage) of the current span, or None.
PyObject* py_inject(PyObject*, PyObject*) {
  PyObject* cur = current_span_new_ref();
  if (cur == nullptr) Py_RETURN_NONE;
  PySpan* s = reinterpret_cast<PySpan*>(cur);
  if (!is_span(cur) || s->trace == nullptr) {
    Py_DECREF(cur);
    Py_RETURN_NONE;
  }
  common::TraceParent tp;
  std::array<uint8_t, 16> tid;
  std::array<uint8_t, 8> sid;
  std::memcpy(tid.data(), s->rec.trace_id, 16);
  std::memcpy(sid.data(), s->rec.span_id, 8);
  tp.trace_id = common::TraceId(tid);
  tp.parent_id = common::SpanId(sid);
  tp.flags = s->rec.trace_flags;
  char header[common::TraceParent::kHeaderSize];
  common::format_traceparent(tp, header);
  const std::string& state = s->trace->trace_state();
  const std::string& baggage = s->trace->baggage();
  PyObject* result = Py_BuildValue("(s#s#s#)", header, static_cast<Py_ssize_t>(sizeof(header)),
                                   state.data(), static_cast<Py_ssize_t>(state.size()),
                                   baggage.data(), static_cast<Py_ssize_t>(baggage.size()));
  Py_DECREF(cur);
  return result;
}

// configure(sampler: str, sampler_arg: str, tail_keep: bool) -> warning str | None
PyObject* py_configure(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 3) {
    PyErr_SetString(PyExc_TypeError, "configure(sampler, sampler_arg, tail_keep)");
    return nullptr;
  }
  TracerConfig config;
  const common::Status st = Sampler::parse(utf8_view(args[0]), utf8_view(args[1]), &config.sampler);
  const int keep = PyObject_IsTrue(args[2]);
  if (keep < 0) return nullptr;
  config.tail_keep = keep == 1;
  configure_tracer(config);
  if (st.ok()) Py_RETURN_NONE;
  return PyUnicode_FromString(st.message().c_str());
}

// flush(timeout_seconds) -> bool; waits for the pipeline without the GIL.
PyObject* py_flush(PyObject*, PyObject* timeout) {
  const double seconds = PyFloat_AsDouble(timeout);
  if (seconds == -1.0 && PyErr_Occurred()) return nullptr;
  const auto ms = std::chrono::milliseconds(static_cast<int64_t>(seconds > 0 ? seconds * 1000 : 0));
  bool drained = true;
  Py_BEGIN_ALLOW_THREADS drained = tracer_output()->flush(ms);
  Py_END_ALLOW_THREADS return PyBool_FromLong(drained);
}

PyObject* py_stats(PyObject*, PyObject*) {
  const TracerCounters& t = tracer_counters();
  const LocalTraceCounters& l = local_trace_counters();
  const std::pair<const char*, uint64_t> items[] = {
      {"spans_started", t.spans_started.load()},
      {"spans_ended", t.spans_ended.load()},
      {"attributes_dropped", t.attributes_dropped.load()},
      {"events_dropped", t.events_dropped.load()},
      {"context_reset_fallbacks", t.context_reset_fallbacks.load()},
      {"end_twice", t.end_twice.load()},
      {"spans_abandoned", t.spans_abandoned.load()},
      {"internal_errors", t.internal_errors.load()},
      {"traces_kept", l.traces_kept.load()},
      {"traces_not_kept", l.traces_not_kept.load()},
      {"spans_over_trace_limit", l.spans_over_trace_limit.load()},
      {"late_spans_submitted", l.late_spans_submitted.load()},
      {"late_spans_dropped", l.late_spans_dropped.load()},
      {"submit_refused", l.submit_refused.load()},
      {"spans_dropped_after_fork", l.spans_dropped_after_fork.load()},
      {"thread_roots_overflow", thread_roots_overflow()},
      {"fork_generation", fork_generation()},
  };
  PyObject* d = PyDict_New();
  for (const auto& [key, value] : items) {
    PyObject* v = d ? PyLong_FromUnsignedLongLong(value) : nullptr;
    if (v == nullptr || PyDict_SetItemString(d, key, v) < 0) {
      Py_XDECREF(v);
      Py_XDECREF(d);
      return nullptr;
    }
    Py_DECREF(v);
  }
  return d;
}

PyObject* py_debug_capture(PyObject*, PyObject* on) {
  const int enable = PyObject_IsTrue(on);
  if (enable < 0) return nullptr;
  DebugCapture::instance().enable(enable == 1);
  Py_RETURN_NONE;
}

PyObject* py_debug_drain(PyObject*, PyObject*) {
  std::vector<SpanRecord> spans = DebugCapture::instance().drain();
  PyObject* list = PyList_New(0);
  for (const SpanRecord& s : spans) {
    PyObject* d = list ? record_to_dict(s) : nullptr;
    if (d == nullptr || PyList_Append(list, d) < 0) {
      Py_XDECREF(d);
      Py_XDECREF(list);
      return nullptr;
    }
    Py_DECREF(d);
  }
  return list;
}

PyObject* py_set_in_app_prefixes(PyObject*, PyObject* prefixes) {
  PyObject* seq = PySequence_Fast(prefixes, "_set_in_app_prefixes() needs a sequence of str");
  if (seq == nullptr) return nullptr;
  std::vector<std::string> out;
  for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); ++i) {
    std::string_view v = utf8_view(PySequence_Fast_GET_ITEM(seq, i));
    if (!v.empty()) out.emplace_back(v);
  }
  Py_DECREF(seq);
  set_in_app_rules(InAppRules(std::move(out)));
  Py_RETURN_NONE;
}

PyObject* py_set_async_decorator(PyObject*, PyObject* factory) {
  set_async_factory(factory);
  Py_RETURN_NONE;
}

// _set_noop(obj | None): while set, span()/start_span() return obj (agent disabled).
PyObject* py_set_noop(PyObject*, PyObject* obj) {
  g_noop.store(obj == Py_None ? nullptr : Py_NewRef(obj), std::memory_order_release);
  Py_RETURN_NONE;
}

// _thread_root(native_tid) -> (trace_id_hex, root_span_id_hex, route) | None
PyObject* py_thread_root(PyObject*, PyObject* tid_obj) {
  const long tid = PyLong_AsLong(tid_obj);
  if (tid == -1 && PyErr_Occurred()) return nullptr;
  ThreadRoot root;
  if (!read_thread_root(static_cast<pid_t>(tid), &root) || root.root_span_id == 0) {
    Py_RETURN_NONE;
  }
  char trace[33], span[17];
  static const char kDigits[] = "0123456789abcdef";
  for (int i = 0; i < 16; ++i) {
    trace[2 * i] = kDigits[root.trace_id[i] >> 4];
    trace[2 * i + 1] = kDigits[root.trace_id[i] & 15];
  }
  for (int i = 0; i < 8; ++i) {
    const uint8_t b = static_cast<uint8_t>(root.root_span_id >> (56 - 8 * i));
    span[2 * i] = kDigits[b >> 4];
    span[2 * i + 1] = kDigits[b & 15];
  }
  const std::string route = route_name(static_cast<uint32_t>(root.route_id));
  return Py_BuildValue("(s#s#s#)", trace, static_cast<Py_ssize_t>(32), span,
                       static_cast<Py_ssize_t>(16), route.data(),
                       static_cast<Py_ssize_t>(route.size()));
}

PyMethodDef kFunctions[] = {
    {"span", as_fastcall(py_span), METH_FASTCALL | METH_KEYWORDS,
     "span(name, kind='internal', attributes=None, *, parent=None) -> Span"},
    {"start_span", as_fastcall(py_start_span), METH_FASTCALL | METH_KEYWORDS,
     "start_span(name, kind='internal', attributes=None, *, parent=None) -> started Span"},
    {"current_span", py_current_span, METH_NOARGS, "The current Span, or None."},
    {"attach", py_attach, METH_O, "attach(span) -> token: makes span current."},
    {"detach", py_detach, METH_O, "detach(token): restores the previous current span."},
    {"set_root_attribute", as_fastcall(py_set_root_attribute), METH_FASTCALL,
     "set_root_attribute(key, value) -> bool, on the current local root."},
    {"extract", as_fastcall(py_extract), METH_FASTCALL,
     "extract(traceparent, tracestate=None, baggage=None) -> SpanContext | None"},
    {"inject", py_inject, METH_NOARGS, "inject() -> (traceparent, tracestate, baggage) | None"},
    {"configure", as_fastcall(py_configure), METH_FASTCALL,
     "configure(sampler, sampler_arg, tail_keep) -> warning | None"},
    {"flush", py_flush, METH_O, "flush(timeout_seconds) -> bool"},
    {"_tracer_stats", py_stats, METH_NOARGS, "Tracer counters."},
    {"_debug_capture", py_debug_capture, METH_O, "TEST ONLY: keep kept spans in memory."},
    {"_debug_drain", py_debug_drain, METH_NOARGS, "TEST ONLY: captured spans as dicts."},
    {"_set_in_app_prefixes", py_set_in_app_prefixes, METH_O, "Library roots (not in_app)."},
    {"_set_async_decorator", py_set_async_decorator, METH_O, "Async wrapper factory."},
    {"_set_noop", py_set_noop, METH_O, "Disables span creation (returns obj instead)."},
    {"_thread_root", py_thread_root, METH_O, "The root published by a native thread id."},
    {nullptr, nullptr, 0, nullptr},
};

}  // namespace

PyObject* noop_span() { return g_noop.load(std::memory_order_acquire); }

void register_tracer(nanobind::module_& m) {
  PyObject* module = m.ptr();
  static const char* kKw[] = {"name", "kind", "attributes", "parent"};
  for (int i = 0; i < 4; ++i) {
    g_kw[i] = PyUnicode_InternFromString(kKw[i]);
    if (g_kw[i] == nullptr) throw nanobind::python_error();
  }
  if (init_span_types(module) < 0 || init_span_context_type(module) < 0 ||
      init_wrapper_type(module) < 0 || PyModule_AddFunctions(module, kFunctions) < 0) {
    throw nanobind::python_error();
  }
  install_fork_handler();
}

}  // namespace pyrometer::agent::py
