// The span decorator: a C callable (vectorcall) that runs the wrapped function
// inside a new span per call; coroutine and (async) generator functions go to
// Python wrappers (pyrometer.api), whose span covers the await or the iteration.
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <atomic>
#include <utility>
#include <vector>

#include "agent/cpython/compat.h"
#include "agent/py_span.h"
#include "agent/py_wrapper.h"  // kImmutableTypeFlag
#include "agent/thread_roots.h"
#include "agent/tracer.h"

namespace pyrometer::agent::py {
namespace {

PyTypeObject* g_wrapper_type = nullptr;
std::atomic<PyObject*> g_iscoroutinefunction{nullptr};  // inspect.iscoroutinefunction
std::atomic<PyObject*> g_isgeneratorfunction{nullptr};  // inspect.isgeneratorfunction
std::atomic<PyObject*> g_isasyncgenfunction{nullptr};   // inspect.isasyncgenfunction
std::atomic<PyObject*> g_update_wrapper{nullptr};       // functools.update_wrapper
// Set by pyrometer.api at import; replaced ones are leaked (a reader may hold them).
std::atomic<PyObject*> g_async_factory{nullptr};

// Carries a __dict__ so functools.update_wrapper can copy __name__, __doc__,
// __wrapped__ ... (inspect.signature and introspection then see the original).
struct PySpanWrapper {
  PyObject_HEAD vectorcallfunc vectorcall;
  PyObject* func;
  PyObject* name;
  PyObject* dict;
  std::vector<Attribute>* attrs;  // the template's attributes, copied per call
  common::otlp::SpanKind kind;
};

PyObject* wrapper_vectorcall(PyObject* self, PyObject* const* args, size_t nargsf,
                             PyObject* kwnames) {
  PySpanWrapper* w = reinterpret_cast<PySpanWrapper*>(self);
  PySpan* s = new_span(w->name, nullptr, nullptr, nullptr);
  if (s == nullptr) return nullptr;
  s->rec.kind = w->kind;
  if (w->attrs != nullptr) s->rec.attributes = *w->attrs;
  start_span(s);  // no explicit parent: a local root only if no traced span is current
  PyObject* token = attach_published(s);
  s->over_no_root = s->is_local_root;
  PyObject* result = PyObject_Vectorcall(w->func, args, nargsf, kwnames);
  PyObject* exc = result == nullptr ? take_raised_exception() : nullptr;
  if (exc != nullptr && record_exception(s, exc, nullptr, /*escaped=*/true) < 0) {
    PyErr_Clear();
    count_internal_error();
  }
  if (token != nullptr) detach_span(s, token);
  end_span(s);
  Py_DECREF(s);
  if (exc != nullptr) restore_raised_exception(exc);
  return result;
}

PyObject* wrapper_descr_get(PyObject* self, PyObject* obj, PyObject*) {
  if (obj == nullptr || obj == Py_None) return Py_NewRef(self);
  return PyMethod_New(self, obj);  // so decorated methods bind like functions
}

int wrapper_traverse(PyObject* self, visitproc visit, void* arg) {
  PySpanWrapper* w = reinterpret_cast<PySpanWrapper*>(self);
  Py_VISIT(w->func);
  Py_VISIT(w->name);
  Py_VISIT(w->dict);
  Py_VISIT(Py_TYPE(self));
  return 0;
}

int wrapper_clear(PyObject* self) {
  PySpanWrapper* w = reinterpret_cast<PySpanWrapper*>(self);
  Py_CLEAR(w->func);
  Py_CLEAR(w->dict);
  return 0;
}

void wrapper_dealloc(PyObject* self) {
  PySpanWrapper* w = reinterpret_cast<PySpanWrapper*>(self);
  PyObject_GC_UnTrack(self);
  Py_CLEAR(w->func);
  Py_CLEAR(w->name);
  Py_CLEAR(w->dict);
  delete w->attrs;
  PyTypeObject* tp = Py_TYPE(self);
  PyObject_GC_Del(self);
  Py_DECREF(tp);
}

PyObject* wrapper_repr(PyObject* self) {
  PySpanWrapper* w = reinterpret_cast<PySpanWrapper*>(self);
  return PyUnicode_FromFormat("<pyrometer span %R wrapping %R>", w->name, w->func);
}

PyMemberDef kWrapperMembers[] = {
    {"__dictoffset__", T_PYSSIZET, offsetof(PySpanWrapper, dict), READONLY, nullptr},
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(PySpanWrapper, vectorcall), READONLY, nullptr},
    {nullptr, 0, 0, 0, nullptr},
};

PyGetSetDef kWrapperGetSet[] = {
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, nullptr, nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyType_Slot kWrapperSlots[] = {
    {Py_tp_getset, kWrapperGetSet},
    {Py_tp_dealloc, reinterpret_cast<void*>(wrapper_dealloc)},
    {Py_tp_traverse, reinterpret_cast<void*>(wrapper_traverse)},
    {Py_tp_clear, reinterpret_cast<void*>(wrapper_clear)},
    {Py_tp_call, reinterpret_cast<void*>(PyVectorcall_Call)},
    {Py_tp_descr_get, reinterpret_cast<void*>(wrapper_descr_get)},
    {Py_tp_repr, reinterpret_cast<void*>(wrapper_repr)},
    {Py_tp_members, kWrapperMembers},
    {0, nullptr},
};

// METHOD_DESCRIPTOR: a decorated method called as `obj.method(...)` is called
// with obj first, no bound method made per call (wrapper_descr_get binds the
// same way when one is asked for); IMMUTABLETYPE lets the interpreter
// specialize that call (py_wrapper.h).
PyType_Spec kWrapperSpec = {
    "pyrometer._native.SpanDecorated",
    sizeof(PySpanWrapper),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL |
        Py_TPFLAGS_METHOD_DESCRIPTOR | kImmutableTypeFlag,
    kWrapperSlots,
};

// `tmpl`'s name, or the function's __qualname__ (then __name__) for bare use.
PyObject* span_name_for(PySpan* tmpl, PyObject* func) {
  if (tmpl != nullptr && tmpl->name != nullptr && PyUnicode_Check(tmpl->name)) {
    return Py_NewRef(tmpl->name);
  }
  for (const char* attr : {"__qualname__", "__name__"}) {
    PyObject* v = PyObject_GetAttrString(func, attr);
    if (v != nullptr && PyUnicode_Check(v)) return v;
    Py_XDECREF(v);
    PyErr_Clear();
  }
  return PyObject_Repr(func);
}

PyObject* attrs_dict(const std::vector<Attribute>& attrs) {
  PyObject* d = PyDict_New();
  for (const Attribute& a : attrs) {
    PyObject* v = d ? from_attr_value(a.value) : nullptr;
    if (v == nullptr || PyDict_SetItemString(d, a.key.c_str(), v) < 0) {
      Py_XDECREF(v);
      Py_XDECREF(d);
      return nullptr;
    }
    Py_DECREF(v);
  }
  return d;
}

// 1 if `func` is a coroutine, generator or async generator function: a C
// wrapper would time only the creation of the coroutine/generator object, so
// these get the Python factory's wrappers. 0 otherwise, -1 with an exception.
int needs_python_wrapper(PyObject* func) {
  static const std::pair<std::atomic<PyObject*>*, const char*> kPredicates[] = {
      {&g_iscoroutinefunction, "iscoroutinefunction"},
      {&g_isgeneratorfunction, "isgeneratorfunction"},
      {&g_isasyncgenfunction, "isasyncgenfunction"},
  };
  for (const auto& [cache, attr] : kPredicates) {
    PyObject* pred = cached_import(*cache, "inspect", attr);
    if (pred == nullptr) return -1;
    PyObject* r = PyObject_CallOneArg(pred, func);
    if (r == nullptr) return -1;
    const int yes = PyObject_IsTrue(r);
    Py_DECREF(r);
    if (yes != 0) return yes;
  }
  return 0;
}

}  // namespace

PyObject* make_decorator(PySpan* tmpl, PyObject* func) {
  PyObject* name = span_name_for(tmpl, func);
  if (name == nullptr) return nullptr;
  const common::otlp::SpanKind kind =
      tmpl != nullptr ? tmpl->rec.kind : common::otlp::SpanKind::kInternal;
  const std::vector<Attribute> empty;
  const std::vector<Attribute>& attrs = tmpl != nullptr ? tmpl->rec.attributes : empty;

  const int in_python = needs_python_wrapper(func);
  if (in_python < 0) {
    Py_DECREF(name);
    return nullptr;
  }
  if (in_python == 1) {
    PyObject* factory = g_async_factory.load(std::memory_order_acquire);
    if (factory == nullptr) {
      // pyrometer.api registers the factory when it is imported.
      PyObject* api = PyImport_ImportModule("pyrometer.api");
      Py_XDECREF(api);
      factory = g_async_factory.load(std::memory_order_acquire);
      if (factory == nullptr) {
        Py_DECREF(name);
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_RuntimeError, "no async span wrapper");
        return nullptr;
      }
    }
    PyObject* kind_obj = PyLong_FromLong(static_cast<long>(kind));
    PyObject* attrs_obj = attrs.empty() ? Py_NewRef(Py_None) : attrs_dict(attrs);
    PyObject* result =
        (kind_obj && attrs_obj)
            ? PyObject_CallFunctionObjArgs(factory, func, name, kind_obj, attrs_obj, nullptr)
            : nullptr;
    Py_XDECREF(kind_obj);
    Py_XDECREF(attrs_obj);
    Py_DECREF(name);
    return result;
  }

  PySpanWrapper* w = PyObject_GC_New(PySpanWrapper, g_wrapper_type);
  if (w == nullptr) {
    Py_DECREF(name);
    return nullptr;
  }
  w->vectorcall = wrapper_vectorcall;
  w->func = Py_NewRef(func);
  w->name = name;
  w->dict = nullptr;
  w->attrs = attrs.empty() ? nullptr : new std::vector<Attribute>(attrs);
  w->kind = kind;
  PyObject_GC_Track(reinterpret_cast<PyObject*>(w));
  PyObject* update = cached_import(g_update_wrapper, "functools", "update_wrapper");
  PyObject* updated =
      update ? PyObject_CallFunctionObjArgs(update, reinterpret_cast<PyObject*>(w), func, nullptr)
             : nullptr;
  if (updated == nullptr) PyErr_Clear();  // e.g. a callable without __name__: still works
  Py_XDECREF(updated);
  return reinterpret_cast<PyObject*>(w);
}

int set_async_factory(PyObject* factory) {
  g_async_factory.store(Py_NewRef(factory), std::memory_order_release);
  return 0;
}

int init_wrapper_type(PyObject* module) {
  g_wrapper_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&kWrapperSpec));
  if (g_wrapper_type == nullptr) return -1;
  g_wrapper_type->tp_new = nullptr;
  return PyModule_AddObjectRef(module, "SpanDecorated",
                               reinterpret_cast<PyObject*>(g_wrapper_type));
}

}  // namespace pyrometer::agent::py
