// Fast methods (see py_fast_method.h): a method descriptor, FastMethod, and
// its bound form, FastBoundMethod, recycled through a free list.
#define PY_SSIZE_T_CLEAN
#include "agent/py_fast_method.h"

#include <Python.h>
#include <structmember.h>

#include <cstddef>
#include <cstdint>

#include "agent/cpython/compat.h"
#include "agent/py_wrapper.h"  // kImmutableTypeFlag

namespace pyrometer::agent::py {
namespace {

PyTypeObject* g_method_type = nullptr;
PyTypeObject* g_bound_type = nullptr;

// The descriptor, in the owner type's dict. Not GC-tracked: it refers to its
// owner only, and the owner (one of our types, alive for the life of the
// process) refers to it through its dict.
struct FastMethod {
  PyObject_HEAD vectorcallfunc vectorcall;  // the unbound call: (self, *args)
  const FastMethodDef* def;
  PyTypeObject* owner;  // strong
  PyObject* name;       // interned str
};

// A FastMethod bound to an instance. GC-tracked like a builtin bound method:
// the instance can reach it back (a span entered through an ExitStack that a
// ContextVar of the span's own Context holds: span -> token -> Context ->
// ExitStack -> bound __exit__ -> span), and such a cycle must be collectable.
struct FastBoundMethod {
  PyObject_HEAD vectorcallfunc vectorcall;
  PyObject* self;              // strong
  FastMethod* method;          // strong
  FastBoundMethod* next_free;  // while on the free list
};

// Freed (untracked) bound methods, for the next bind, guarded by the GIL:
// tp_descr_get and tp_dealloc run holding it. Left to the OS at exit.
// Free-threaded builds keep no list: a GC object belongs to its thread's heap,
// and a per-thread list could not be freed when its thread ends.
struct FreeList {
#ifdef Py_GIL_DISABLED
  static constexpr int kCapacity = 0;
#else
  static constexpr int kCapacity = 64;  // beyond `with` nesting depths seen in practice
#endif
  FastBoundMethod* head = nullptr;
  int size = 0;
};
FreeList g_free;

[[gnu::cold, gnu::noinline]] bool call_error(const FastMethod* m, Py_ssize_t nargs,
                                             PyObject* kwnames) {
  if (kwnames != nullptr && PyTuple_GET_SIZE(kwnames) != 0) {
    PyErr_Format(PyExc_TypeError, "%s() takes no keyword arguments", m->def->name);
  } else if (m->def->min_args == m->def->max_args) {
    PyErr_Format(PyExc_TypeError, "%s() takes %zd positional arguments (%zd given)", m->def->name,
                 m->def->min_args, nargs);
  } else {
    PyErr_Format(PyExc_TypeError, "%s() takes %zd to %zd positional arguments (%zd given)",
                 m->def->name, m->def->min_args, m->def->max_args, nargs);
  }
  return false;
}

[[gnu::always_inline]] inline bool check_call(const FastMethod* m, Py_ssize_t nargs,
                                              PyObject* kwnames) {
  if (nargs >= m->def->min_args && nargs <= m->def->max_args &&
      (kwnames == nullptr || PyTuple_GET_SIZE(kwnames) == 0)) [[likely]] {
    return true;
  }
  return call_error(m, nargs, kwnames);
}

[[gnu::cold, gnu::noinline]] bool instance_error(const FastMethod* m, PyObject* obj) {
  PyErr_Format(PyExc_TypeError, "descriptor '%s' for '%s' objects doesn't apply to a '%s' object",
               m->def->name, m->owner->tp_name, Py_TYPE(obj)->tp_name);
  return false;
}

[[gnu::always_inline]] inline bool check_instance(const FastMethod* m, PyObject* obj) {
  if (Py_TYPE(obj) == m->owner || PyType_IsSubtype(Py_TYPE(obj), m->owner)) [[likely]] {
    return true;
  }
  return instance_error(m, obj);
}

// ---- the descriptor ---------------------------------------------------------

PyObject* unbound_call(PyObject* descr, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  FastMethod* m = reinterpret_cast<FastMethod*>(descr);
  const Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  if (nargs < 1) {
    PyErr_Format(PyExc_TypeError, "descriptor '%s' of '%s' object needs an argument", m->def->name,
                 m->owner->tp_name);
    return nullptr;
  }
  if (!check_instance(m, args[0]) || !check_call(m, nargs - 1, kwnames)) return nullptr;
  return m->def->call(args[0], args + 1, nargs - 1);
}

PyObject* bound_call(PyObject* self, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  FastBoundMethod* b = reinterpret_cast<FastBoundMethod*>(self);
  const Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  if (!check_call(b->method, nargs, kwnames)) return nullptr;
  return b->method->def->call(b->self, args, nargs);
}

PyObject* method_get(PyObject* descr, PyObject* obj, PyObject*) {
  FastMethod* m = reinterpret_cast<FastMethod*>(descr);
  if (obj == nullptr) return Py_NewRef(descr);  // looked up on the class
  if (!check_instance(m, obj)) return nullptr;
  FastBoundMethod* b = g_free.head;
  if (b != nullptr) {
    g_free.head = b->next_free;
    --g_free.size;
    PyObject_Init(reinterpret_cast<PyObject*>(b), g_bound_type);  // memory from GC_New
  } else {
    b = PyObject_GC_New(FastBoundMethod, g_bound_type);
    if (b == nullptr) return nullptr;
  }
  b->vectorcall = bound_call;
  b->self = Py_NewRef(obj);
  b->method = reinterpret_cast<FastMethod*>(Py_NewRef(descr));
  b->next_free = nullptr;
  PyObject_GC_Track(b);
  return reinterpret_cast<PyObject*>(b);
}

PyObject* method_repr(PyObject* descr) {
  FastMethod* m = reinterpret_cast<FastMethod*>(descr);
  return PyUnicode_FromFormat("<method '%s' of '%s' objects>", m->def->name, m->owner->tp_name);
}

PyObject* qualname_of(const FastMethod* m) {
  PyObject* owner = PyObject_GetAttrString(reinterpret_cast<PyObject*>(m->owner), "__qualname__");
  if (owner == nullptr) return nullptr;
  PyObject* q = PyUnicode_FromFormat("%U.%s", owner, m->def->name);
  Py_DECREF(owner);
  return q;
}

PyObject* doc_of(const FastMethod* m) {
  if (m->def->doc == nullptr) Py_RETURN_NONE;
  return PyUnicode_FromString(m->def->doc);
}

PyObject* method_get_name(PyObject* d, void*) {
  return Py_NewRef(reinterpret_cast<FastMethod*>(d)->name);
}
PyObject* method_get_qualname(PyObject* d, void*) {
  return qualname_of(reinterpret_cast<FastMethod*>(d));
}
PyObject* method_get_doc(PyObject* d, void*) { return doc_of(reinterpret_cast<FastMethod*>(d)); }
PyObject* method_get_objclass(PyObject* d, void*) {
  return Py_NewRef(reinterpret_cast<PyObject*>(reinterpret_cast<FastMethod*>(d)->owner));
}

void method_dealloc(PyObject* descr) {  // only if the owner type goes away
  FastMethod* m = reinterpret_cast<FastMethod*>(descr);
  Py_XDECREF(m->owner);
  Py_XDECREF(m->name);
  PyTypeObject* tp = Py_TYPE(descr);
  PyObject_Free(descr);
  Py_DECREF(tp);
}

PyGetSetDef kMethodGetSet[] = {
    {"__name__", method_get_name, nullptr, nullptr, nullptr},
    {"__qualname__", method_get_qualname, nullptr, nullptr, nullptr},
    {"__doc__", method_get_doc, nullptr, nullptr, nullptr},
    {"__objclass__", method_get_objclass, nullptr, nullptr, nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyMemberDef kMethodMembers[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(FastMethod, vectorcall), READONLY, nullptr},
    {nullptr, 0, 0, 0, nullptr},
};

// ---- the bound method ---------------------------------------------------------

void bound_dealloc(PyObject* o) {
  FastBoundMethod* b = reinterpret_cast<FastBoundMethod*>(o);
  PyObject_GC_UnTrack(o);
  PyObject* self = b->self;
  PyObject* method = reinterpret_cast<PyObject*>(b->method);
  PyTypeObject* tp = Py_TYPE(o);
  if (g_free.size < FreeList::kCapacity) {
    b->self = nullptr;
    b->method = nullptr;
    b->next_free = g_free.head;
    g_free.head = b;
    ++g_free.size;
  } else {
    PyObject_GC_Del(o);
  }
  Py_DECREF(tp);
  Py_DECREF(method);
  Py_DECREF(self);  // last: may run any code, binding again from the list
}

int bound_traverse(PyObject* o, visitproc visit, void* arg) {
  FastBoundMethod* b = reinterpret_cast<FastBoundMethod*>(o);
  Py_VISIT(b->self);
  Py_VISIT(reinterpret_cast<PyObject*>(b->method));
  Py_VISIT(Py_TYPE(o));  // heap type: instances keep it alive
  return 0;
}

PyObject* bound_repr(PyObject* o) {
  FastBoundMethod* b = reinterpret_cast<FastBoundMethod*>(o);
  PyObject* qualname = qualname_of(b->method);
  if (qualname == nullptr) return nullptr;
  PyObject* r = PyUnicode_FromFormat("<bound method %U of %R>", qualname, b->self);
  Py_DECREF(qualname);
  return r;
}

PyObject* bound_richcompare(PyObject* a, PyObject* b, int op) {
  if ((op != Py_EQ && op != Py_NE) || Py_TYPE(b) != Py_TYPE(a)) Py_RETURN_NOTIMPLEMENTED;
  const FastBoundMethod* x = reinterpret_cast<FastBoundMethod*>(a);
  const FastBoundMethod* y = reinterpret_cast<FastBoundMethod*>(b);
  const bool eq = x->self == y->self && x->method == y->method;
  return PyBool_FromLong(eq == (op == Py_EQ));
}

Py_hash_t hash_pointer(const void* p) {  // Py_HashPointer is 3.13+
  const uintptr_t v = reinterpret_cast<uintptr_t>(p);
  return static_cast<Py_hash_t>((v >> 4) | (v << (8 * sizeof(v) - 4)));
}

Py_hash_t bound_hash(PyObject* o) {
  const FastBoundMethod* b = reinterpret_cast<FastBoundMethod*>(o);
  const Py_hash_t h = hash_pointer(b->self) ^ hash_pointer(b->method);
  return h == -1 ? -2 : h;
}

PyObject* bound_get_self(PyObject* o, void*) {
  return Py_NewRef(reinterpret_cast<FastBoundMethod*>(o)->self);
}
PyObject* bound_get_name(PyObject* o, void*) {
  return Py_NewRef(reinterpret_cast<FastBoundMethod*>(o)->method->name);
}
PyObject* bound_get_qualname(PyObject* o, void*) {
  return qualname_of(reinterpret_cast<FastBoundMethod*>(o)->method);
}
PyObject* bound_get_doc(PyObject* o, void*) {
  return doc_of(reinterpret_cast<FastBoundMethod*>(o)->method);
}

PyGetSetDef kBoundGetSet[] = {
    {"__self__", bound_get_self, nullptr, nullptr, nullptr},
    {"__name__", bound_get_name, nullptr, nullptr, nullptr},
    {"__qualname__", bound_get_qualname, nullptr, nullptr, nullptr},
    {"__doc__", bound_get_doc, nullptr, nullptr, nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyMemberDef kBoundMembers[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(FastBoundMethod, vectorcall), READONLY, nullptr},
    {nullptr, 0, 0, 0, nullptr},
};

int init_types() {
  if (g_bound_type != nullptr) return 0;
  static PyType_Slot method_slots[] = {
      {Py_tp_call, reinterpret_cast<void*>(PyVectorcall_Call)},
      {Py_tp_descr_get, reinterpret_cast<void*>(method_get)},
      {Py_tp_repr, reinterpret_cast<void*>(method_repr)},
      {Py_tp_getset, kMethodGetSet},
      {Py_tp_members, kMethodMembers},
      {Py_tp_dealloc, reinterpret_cast<void*>(method_dealloc)},
      {0, nullptr},
  };
  static PyType_Spec method_spec = {"pyrometer._native.FastMethod", sizeof(FastMethod), 0,
                                    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL |
                                        Py_TPFLAGS_METHOD_DESCRIPTOR | kImmutableTypeFlag,
                                    method_slots};
  static PyType_Slot bound_slots[] = {
      {Py_tp_call, reinterpret_cast<void*>(PyVectorcall_Call)},
      {Py_tp_repr, reinterpret_cast<void*>(bound_repr)},
      {Py_tp_richcompare, reinterpret_cast<void*>(bound_richcompare)},
      {Py_tp_hash, reinterpret_cast<void*>(bound_hash)},
      {Py_tp_getset, kBoundGetSet},
      {Py_tp_members, kBoundMembers},
      {Py_tp_dealloc, reinterpret_cast<void*>(bound_dealloc)},
      {Py_tp_traverse, reinterpret_cast<void*>(bound_traverse)},
      {0, nullptr},
  };
  static PyType_Spec bound_spec = {
      "pyrometer._native.FastBoundMethod", sizeof(FastBoundMethod), 0,
      Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL | kImmutableTypeFlag,
      bound_slots};
  PyObject* method_type = PyType_FromSpec(&method_spec);
  if (method_type == nullptr) return -1;
  PyObject* bound_type = PyType_FromSpec(&bound_spec);
  if (bound_type == nullptr) {
    Py_DECREF(method_type);
    return -1;
  }
  g_method_type = reinterpret_cast<PyTypeObject*>(method_type);
  g_method_type->tp_new = nullptr;
  g_bound_type = reinterpret_cast<PyTypeObject*>(bound_type);
  g_bound_type->tp_new = nullptr;
  return 0;
}

}  // namespace

int add_fast_methods(PyTypeObject* type, const FastMethodDef* defs) {
  if (init_types() < 0) return -1;
  for (const FastMethodDef* def = defs; def->name != nullptr; ++def) {
    PyObject* name = PyUnicode_InternFromString(def->name);
    if (name == nullptr) return -1;
    FastMethod* m = PyObject_New(FastMethod, g_method_type);
    if (m == nullptr) {
      Py_DECREF(name);
      return -1;
    }
    m->vectorcall = unbound_call;
    m->def = def;
    m->owner = reinterpret_cast<PyTypeObject*>(Py_NewRef(reinterpret_cast<PyObject*>(type)));
    m->name = name;
    const int rc =
        PyObject_SetAttr(reinterpret_cast<PyObject*>(type), name, reinterpret_cast<PyObject*>(m));
    Py_DECREF(m);
    if (rc < 0) return -1;
  }
  return 0;
}

}  // namespace pyrometer::agent::py
