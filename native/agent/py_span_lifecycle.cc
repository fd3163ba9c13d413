// Span lifecycle for the binding: creation, start (ids, parent, sampling),
// end (hand-off to the local trace), and the ContextVar attach/detach.
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <utility>

#include "agent/cpython/compat.h"
#include "agent/py_span.h"
#include "agent/route_table.h"
#include "agent/sampler.h"
#include "agent/thread_roots.h"
#include "agent/tracer.h"
#include "common/big_endian.h"
#include "common/clock.h"
#include "common/random.h"

namespace pyrometer::agent::py {
namespace {

using common::otlp::SpanKind;

PyObject* g_kind_names[6];  // interned, indexed by SpanKind
PyObject* g_token_missing = nullptr;
PyObject* g_str_old_value = nullptr;

using common::store_be64;

// `v`, or fresh draws until non-zero when `v` is zero (unset, or a 2^-64 draw).
uint64_t nonzero(uint64_t v) {
  while (v == 0) v = common::random_u64();
  return v;
}

}  // namespace

int parse_kind(PyObject* kind, SpanKind* out) {
  if (kind == nullptr || kind == Py_None) {
    *out = SpanKind::kInternal;
    return 0;
  }
  if (PyUnicode_Check(kind)) {
    for (int i = 1; i <= 5; ++i) {
      if (kind == g_kind_names[i]) {  // interned literals: pointer equality
        *out = static_cast<SpanKind>(i);
        return 0;
      }
    }
    for (int i = 1; i <= 5; ++i) {
      int eq = PyUnicode_Compare(kind, g_kind_names[i]);
      if (eq == 0) {
        *out = static_cast<SpanKind>(i);
        return 0;
      }
    }
  } else if (PyLong_Check(kind)) {
    long v = PyLong_AsLong(kind);
    if (v >= 1 && v <= 5) {
      *out = static_cast<SpanKind>(v);
      return 0;
    }
    PyErr_Clear();
  }
  PyErr_SetString(PyExc_ValueError,
                  "kind must be 'internal', 'server', 'client', 'producer', 'consumer' or a "
                  "pyrometer.SpanKind");
  return -1;
}

PySpan* new_span(PyObject* name, PyObject* kind, PyObject* attributes, PyObject* parent) {
  SpanKind k;
  if (parse_kind(kind, &k) < 0) return nullptr;
  if (parent != nullptr && parent != Py_None && !is_span(parent) && !is_span_context(parent)) {
    PyErr_SetString(PyExc_TypeError, "parent must be a Span or a SpanContext");
    return nullptr;
  }
  PySpan* s = PyObject_GC_New(PySpan, g_span_type);
  if (s == nullptr) return nullptr;
  // Default-initialised: every member has an initializer; `SpanRecord()`
  // would zero-fill the whole record first.
  new (&s->rec) SpanRecord;
  s->rec.kind = k;
  s->name = Py_NewRef(name);
  s->token = nullptr;
  s->parent = (parent != nullptr && parent != Py_None) ? Py_NewRef(parent) : nullptr;
  s->trace = nullptr;
  s->request = nullptr;
  s->start_mono = 0;
  s->root_span_id = 0;
  s->state = SpanState::kCreated;
  s->is_local_root = false;
  s->over_no_root = false;
  PyObject_GC_Track(reinterpret_cast<PyObject*>(s));
  if (attributes != nullptr && attributes != Py_None &&
      add_attributes(s->rec.attributes, attributes) < 0) {
    Py_DECREF(s);
    return nullptr;
  }
  return s;
}

void start_span(PySpan* s) {
  if (s->state != SpanState::kCreated) return;
  // From the parent we read only what is fixed once it started (ids, flags,
  // the LocalTrace): its record may be ending on another thread right now.
  PyObject* parent = s->parent;
  s->parent = nullptr;
  if (parent == nullptr) parent = current_span_new_ref();
  SpanRecord& rec = s->rec;
  uint64_t new_ids[3] = {0, 0, 0};
  if (parent != nullptr && is_span(parent) && reinterpret_cast<PySpan*>(parent)->trace) {
    PySpan* p = reinterpret_cast<PySpan*>(parent);
    std::memcpy(rec.trace_id, p->rec.trace_id, 16);
    std::memcpy(rec.parent_span_id, p->rec.span_id, 8);
    rec.has_parent = true;
    rec.trace_flags = p->rec.trace_flags;
    s->trace = p->trace;
    s->trace->ref();
    PYROMETER_BEGIN_CRITICAL(parent)  // the parent may be ending on another thread
    s->request = Py_XNewRef(p->request);
    PYROMETER_END_CRITICAL()
    s->root_span_id = p->root_span_id;
    s->is_local_root = false;
  } else {
    ParentState ps = ParentState::kNone;
    const PySpanContext* remote = nullptr;
    if (parent != nullptr && is_span_context(parent)) {
      remote = reinterpret_cast<const PySpanContext*>(parent);
      std::memcpy(rec.trace_id, remote->trace_id, 16);
      std::memcpy(rec.parent_span_id, remote->span_id, 8);
      rec.has_parent = true;
      rec.parent_is_remote = true;
      ps = (remote->flags & 1) ? ParentState::kRemoteSampled : ParentState::kRemoteNotSampled;
    } else {
      common::random_fill(new_ids, 3);  // a new trace: its id and the root's span id
      store_be64(nonzero(new_ids[0]), rec.trace_id);
      store_be64(new_ids[1], rec.trace_id + 8);
    }
    const TracerConfig config = tracer_config();
    const bool sampled = config.sampler.should_sample(rec.trace_id, ps);
    // Keep the other W3C flags of a remote parent (e.g. "random"), ours for the rest.
    rec.trace_flags =
        static_cast<uint8_t>(((remote ? remote->flags : 0x02) & ~1) | (sampled ? 1 : 0));
    s->trace = LocalTrace::create(sampled, config.tail_keep, fork_generation());
    if (remote != nullptr && !(remote->trace_state->empty() && remote->baggage->empty())) {
      s->trace->set_remote_headers(*remote->trace_state, *remote->baggage);
    }
    s->is_local_root = true;
  }
  Py_XDECREF(parent);
  const uint64_t span_id = nonzero(new_ids[2]);  // drawn here unless a new trace drew it
  store_be64(span_id, rec.span_id);
  if (s->is_local_root) s->root_span_id = span_id;
  s->start_mono = common::monotonic_nano();
  rec.start_unix_nano = wall_from_monotonic(s->start_mono);
  s->state = SpanState::kStarted;
  if (s->is_local_root && !rec.attributes.empty()) note_route(s);
  tracer_counters().spans_started.fetch_add(1, std::memory_order_relaxed);
}

void end_span(PySpan* s) {
  const uint64_t now = common::monotonic_nano();
  bool ended = false;
  PyObject* request = nullptr;  // dropped once the record is handed over
  PYROMETER_BEGIN_CRITICAL(reinterpret_cast<PyObject*>(s))
  if (s->state == SpanState::kStarted) {
    s->state = SpanState::kEnded;
    ended = true;
    request = s->request;
    s->request = nullptr;
  }
  PYROMETER_END_CRITICAL()
  if (!ended) return;
  SpanRecord& rec = s->rec;
  rec.end_unix_nano = rec.start_unix_nano + (now - s->start_mono);
  Py_ssize_t n;
  const char* name = PyUnicode_Check(s->name) ? PyUnicode_AsUTF8AndSize(s->name, &n) : "span";
  if (name != nullptr && !PyUnicode_Check(s->name)) {
    rec.name = name;  // span() without a name, used as a context manager
  } else if (name != nullptr) {
    rec.name.assign(name, static_cast<size_t>(n));
  } else {
    PyErr_Clear();  // e.g. lone surrogates: keep the span under a placeholder name
    rec.name = "<invalid name>";
    count_internal_error();
  }
  if (!s->trace->trace_state().empty()) rec.trace_state = s->trace->trace_state();
  tracer_counters().spans_ended.fetch_add(1, std::memory_order_relaxed);
  try {
    Pipeline* out = active_tracer_output();
    if (s->is_local_root) {
      s->trace->end_root(std::move(rec), out, fork_generation());
    } else {
      s->trace->end_span(std::move(rec), out, fork_generation());
    }
  } catch (...) {  // std::bad_alloc: lose this span, never the application
    count_internal_error();
  }
  Py_XDECREF(request);
}

PyObject* attach(PyObject* s) {
  PyObject* token = PyContextVar_Set(g_current_var, s);
  if (token == nullptr) {
    PyErr_Clear();
    count_internal_error();
  }
  return token;
}

bool detach(PyObject* token) {
  if (PyContextVar_Reset(g_current_var, token) == 0) return true;
  // The token belongs to another Context (a span entered in one task and
  // exited in another) or was used already. Peers log "Failed to detach
  // context" here on every request; we restore the previous value instead
  // and count it.
  PyErr_Clear();
  tracer_counters().context_reset_fallbacks.fetch_add(1, std::memory_order_relaxed);
  PyObject* old = PyObject_GetAttr(token, g_str_old_value);
  if (old == nullptr) {
    PyErr_Clear();
    old = Py_NewRef(Py_None);
  } else if (old == g_token_missing) {
    Py_SETREF(old, Py_NewRef(Py_None));
  }
  PyObject* t = PyContextVar_Set(g_current_var, old);
  Py_DECREF(old);
  if (t == nullptr) PyErr_Clear();
  Py_XDECREF(t);
  return false;
}

void publish_span_root(PySpan* s) {
  if (s->trace != nullptr)
    publish_thread_root(s->rec.trace_id, s->root_span_id, s->trace->route_id());
}

void detach_span(PySpan* s, PyObject* token) {
  const bool exact = detach(token);
  Py_DECREF(token);
  if (!s->is_local_root) return;  // children never change the thread's root
  if (exact && s->over_no_root) {
    clear_thread_root();
  } else {
    republish_current_root();
  }
}

PyObject* attach_published(PySpan* s) {
  PyObject* token = attach(reinterpret_cast<PyObject*>(s));
  publish_span_root(s);
  return token;
}

void detach_published(PyObject* token) {
  if (token == nullptr) return;
  detach(token);
  Py_DECREF(token);
  republish_current_root();
}

void call_error_hook(PyObject* callback, PyObject* owner, PyObject* exc) {
  PyObject* r = PyObject_CallFunctionObjArgs(callback, owner, exc, nullptr);
  if (r == nullptr) {
    PyErr_Clear();
    count_internal_error();
  }
  Py_XDECREF(r);
}

void note_route(PySpan* s) {
  if (!s->is_local_root || s->trace == nullptr) return;
  constexpr std::string_view kRoute = "http.route";  // a view: sizes compare first, no strlen
  for (const Attribute& a : s->rec.attributes) {
    if (std::string_view(a.key) != kRoute || a.value.index() != 0) continue;
    const uint32_t id = intern_route(std::get<std::string>(a.value));
    s->trace->set_route_id(id);
    publish_thread_route(s->root_span_id, id);
    return;
  }
}

void republish_current_root() {
  PyObject* now = current_span_new_ref();
  PySpan* s = reinterpret_cast<PySpan*>(now);
  if (now != nullptr && is_span(now) && s->trace != nullptr) {
    publish_span_root(s);
  } else {
    clear_thread_root();
  }
  Py_XDECREF(now);
}

PyObject* current_span_new_ref() {
  PyObject* value = nullptr;
  if (PyContextVar_Get(g_current_var, nullptr, &value) < 0) {
    PyErr_Clear();
    return nullptr;
  }
  if (value == Py_None) {
    Py_DECREF(value);
    return nullptr;
  }
  return value;
}

int init_span_lifecycle() {
  static const char* kKinds[] = {"unspecified", "internal", "server",
                                 "client",      "producer", "consumer"};
  for (int i = 0; i < 6; ++i) {
    g_kind_names[i] = PyUnicode_InternFromString(kKinds[i]);
    if (g_kind_names[i] == nullptr) return -1;
  }
  g_str_old_value = PyUnicode_InternFromString("old_value");
  if (g_str_old_value == nullptr) return -1;
  PyObject* missing =
      PyObject_GetAttrString(reinterpret_cast<PyObject*>(&PyContextToken_Type), "MISSING");
  if (missing == nullptr) return -1;
  g_token_missing = missing;
  return 0;
}

}  // namespace pyrometer::agent::py
