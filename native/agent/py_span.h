// The Python Span type's C layout and the entry points the other binding files
// share (creation, start/end, conversions). Binding layer: needs the interpreter.
#pragma once

#include <Python.h>
#include <nanobind/nanobind.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "agent/cpython/compat.h"  // Py_NewRef on 3.9
#include "agent/local_trace.h"
#include "agent/span_record.h"

namespace pyrometer::agent::py {

enum class SpanState : uint8_t { kCreated, kStarted, kEnded };

// pyrometer._native.Span. It holds its name, the ContextVar token while
// entered, an explicit parent, and while it runs the WSGI integration's
// request object; only the token's Context and the request object (which
// refers to its request's span) can refer back to it, and end_span drops the
// request object. GC-tracked so that a span left entered forever in a dead
// Context (span -> token -> context -> span), or never ended, is still
// collected.
//
// Thread-safety: under free-threading, mutations of one span from several
// threads at once are serialised with Py_BEGIN_CRITICAL_SECTION (3.13+);
// with the GIL they are serialised by the GIL.
struct PySpan {
  PyObject_HEAD SpanRecord rec;  // placement-constructed; moved out when the span ends
  PyObject* name;                // str; converted into rec.name once, at end
  PyObject* token;               // ContextVar token while entered, else NULL
  PyObject* parent;              // explicit parent (Span or SpanContext) until start, else NULL
  LocalTrace* trace;             // a reference, from start until dealloc
  // The WSGI integration's request object (wsgi.current_request()): set on a
  // request's SERVER span by wsgi_app, inherited by the spans started under
  // it, dropped at end. On the span rather than in a ContextVar of its own:
  // one ContextVar set and reset fewer per request.
  PyObject* request;
  uint64_t start_mono;
  uint64_t root_span_id;  // big-endian value of the local root's span id
  SpanState state;
  bool is_local_root;
  // Entered as it started, with no explicit parent, and a local root: so no
  // traced span was current, and none is once its token resets exactly — its
  // exit clears the thread's published root without looking the ContextVar up.
  bool over_no_root;
};

// A remote parent, from extract(): pyrometer._native.SpanContext.
struct PySpanContext {
  PyObject_HEAD uint8_t trace_id[16];
  uint8_t span_id[8];
  uint8_t flags;
  std::string* trace_state;  // owned; header form
  std::string* baggage;      // owned; header form (validated, re-serialised)
};

extern PyTypeObject* g_span_type;
extern PyTypeObject* g_span_context_type;
extern PyObject* g_current_var;  // the ContextVar holding the current Span

inline bool is_span(PyObject* o) { return Py_TYPE(o) == g_span_type; }
inline bool is_span_context(PyObject* o) { return Py_TYPE(o) == g_span_context_type; }

// `module.name`, imported on first use and cached in `slot` (a strong
// reference kept for the life of the process). Thread-safe without the GIL:
// racing first callers both import, one wins, the other drops its copy.
// NULL with an exception set if the import fails.
inline PyObject* cached_import(std::atomic<PyObject*>& slot, const char* module, const char* name) {
  PyObject* cached = slot.load(std::memory_order_acquire);
  if (cached != nullptr) return cached;
  PyObject* mod = PyImport_ImportModule(module);
  if (mod == nullptr) return nullptr;
  PyObject* attr = PyObject_GetAttrString(mod, name);
  Py_DECREF(mod);
  if (attr == nullptr) return nullptr;
  PyObject* expected = nullptr;
  if (!slot.compare_exchange_strong(expected, attr, std::memory_order_acq_rel)) {
    Py_DECREF(attr);
    return expected;
  }
  return attr;
}

// The UTF-8 text of a str (a view of its cached encoding, valid while the str
// lives), or empty for NULL, a non-str, or a str that does not encode.
inline std::string_view utf8_view(PyObject* o) {
  if (o == nullptr || !PyUnicode_Check(o)) return {};
  Py_ssize_t n;
  const char* text = PyUnicode_AsUTF8AndSize(o, &n);
  if (text == nullptr) {
    PyErr_Clear();
    return {};
  }
  return {text, static_cast<size_t>(n)};
}

// The UTF-8 text of a str (or of str(v)) copied into *out; false, *out
// unchanged, when it has none.
inline bool text_of(PyObject* v, std::string* out) {
  PyObject* s = PyUnicode_Check(v) ? Py_NewRef(v) : PyObject_Str(v);
  if (s == nullptr) {
    PyErr_Clear();
    return false;
  }
  Py_ssize_t n;
  const char* p = PyUnicode_AsUTF8AndSize(s, &n);
  if (p != nullptr) out->assign(p, static_cast<size_t>(n));
  Py_DECREF(s);
  if (p == nullptr) PyErr_Clear();
  return p != nullptr;
}

// An interned str for a name the binding compares against, made at module
// registration; throws nanobind::python_error on failure.
inline PyObject* intern_name(const char* s) {
  PyObject* o = PyUnicode_InternFromString(s);
  if (o == nullptr) throw nanobind::python_error();
  return o;
}

// A METH_FASTCALL function as the PyCFunction a PyMethodDef holds.
template <typename F>
PyCFunction as_fastcall(F f) {
  return reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(f));
}

// tp_dealloc of a heap GC type whose tp_clear, `Clear`, releases all it owns:
// untrack, clear, free, then drop the instance's reference to its type.
template <inquiry Clear>
void gc_dealloc(PyObject* self) {
  PyObject_GC_UnTrack(self);
  Clear(self);
  PyTypeObject* tp = Py_TYPE(self);
  PyObject_GC_Del(self);
  Py_DECREF(tp);
}

// Interns the names the lifecycle compares against. -1 on error.
int init_span_lifecycle();
// Creates the types and the ContextVar, adds them to `module`. -1 on error.
int init_span_types(PyObject* module);
int init_span_context_type(PyObject* module);
int init_wrapper_type(PyObject* module);

// A new, not yet started span. `kind`/`attributes`/`parent` may be NULL.
// Returns NULL with an exception set on a bad argument.
PySpan* new_span(PyObject* name, PyObject* kind, PyObject* attributes, PyObject* parent);
// Starts a created span (ids, clocks, local trace). No-op unless kCreated.
void start_span(PySpan* s);
// Ends a started span and hands it to its local trace. No-op unless kStarted.
void end_span(PySpan* s);
// Detaches `s` if it is current through its own token (entered), then ends
// it. What __exit__ does after recording an escaping exception.
void exit_span(PySpan* s);
// The object span()/start_span() return instead of a span while the agent is
// disabled at run time (borrowed), or NULL.
PyObject* noop_span();
// Makes `s` current (returns the ContextVar token, new reference) / restores.
PyObject* attach(PyObject* s);
// Resets the ContextVar with `token`; on failure (token from another Context
// or already used) falls back to set(token.old_value), silently, and counts.
// True when the reset was exact (the value before attach is back). Never raises.
bool detach(PyObject* token);
// Publishes `s` (entered or attached) as this thread's active local root.
void publish_span_root(PySpan* s);
// Leaves `s`, entered with attach_published: detach(token) (stolen) and, for a
// local root, publishes the thread's root that is current again (none, with no
// lookup, when s->over_no_root and the reset was exact). Never raises.
void detach_span(PySpan* s, PyObject* token);
// For a local root: picks up an `http.route` attribute as the trace's route
// (interned) and republishes it. Cheap when there is none.
void note_route(PySpan* s);
// Publishes the local root of whatever span is current now (after a detach)
// in the thread-roots table, or clears this thread's entry. Never raises.
void republish_current_root();
// The current span (new reference), or NULL when there is none. Never raises.
PyObject* current_span_new_ref();
// attach() and publish_span_root(): `s` current and published for the
// samplers. Returns the token (new reference), or NULL when setting failed
// (counted).
PyObject* attach_published(PySpan* s);
// Undoes attach_published: detach(token) — the token is stolen; NULL does
// nothing — and republish_current_root(). Never raises.
void detach_published(PyObject* token);
// Calls an integration's error hook, callback(owner, exc), never raising: a
// failure inside it is cleared and counted in internal_errors.
void call_error_hook(PyObject* callback, PyObject* owner, PyObject* exc);

// kind from "server"/"client"/... or an int (pyrometer.SpanKind). -1 + error.
int parse_kind(PyObject* kind, common::otlp::SpanKind* out);
// Python value -> attribute value. False (no exception) for None or when the
// value cannot be converted; the caller counts the drop.
bool to_attr_value(PyObject* value, AttrValue* out);
// Adds every item of a dict/mapping to `attrs`. -1 with an exception when
// `mapping` is not a mapping or a key is not a str.
int add_attributes(std::vector<Attribute>& attrs, PyObject* mapping);
// Attribute value -> new Python object.
PyObject* from_attr_value(const AttrValue& value);
// A finished span as a dict (test-only capture and diagnostics).
PyObject* record_to_dict(const SpanRecord& rec);

// Records `exc` (with its traceback) on the span's record; `extra` (a
// mapping or NULL) adds attributes to the exception event. An escaping
// GeneratorExit is ignored (a closed generator is not an error). 0 or -1.
int record_exception(PySpan* s, PyObject* exc, PyObject* extra, bool escaped);

// A new SpanContext (remote parent). NULL with an exception on failure.
PyObject* new_span_context(const uint8_t trace_id[16], const uint8_t span_id[8], uint8_t flags,
                           std::string trace_state, std::string baggage);

// The decorator: a callable that runs `func` inside a new span per call.
// `tmpl` supplies name (or NULL: func.__qualname__), kind and attributes.
PyObject* make_decorator(PySpan* tmpl, PyObject* func);
// The Python factory for coroutine functions:
// factory(func, name, kind: int, attributes: dict | None) -> async wrapper.
int set_async_factory(PyObject* factory);

}  // namespace pyrometer::agent::py
