// Methods of our C types that bind without allocating: what `with span:`
// needs to be cheap. Binding layer: needs the interpreter.
//
// Why: before 3.14, `with obj:` looks up __enter__ and __exit__ with
// _PyObject_LookupSpecial, which calls the descriptor's tp_descr_get; for a
// PyMethodDef method that makes a new GC-tracked builtin-method object per
// lookup, freed when the block ends — two allocations and two GC link/unlinks,
// ~600 of the ~5,150 instructions an empty `with pyrometer.span("x"):` cost
// (callgrind). A fast method's descriptor binds into an object taken from a
// free list instead (as CPython's own bound methods did until 3.8). Being a
// METHOD_DESCRIPTOR, `obj.name(...)` and 3.14's LOAD_SPECIAL call it with no
// bound object at all.
#pragma once

#include <Python.h>

namespace pyrometer::agent::py {

// Called with the instance and the positional arguments (their number already
// checked against [min_args, max_args]; keywords are refused before the call).
using FastMethodFunc = PyObject* (*)(PyObject* self, PyObject* const* args, Py_ssize_t nargs);

struct FastMethodDef {
  const char* name;  // NULL ends a table
  FastMethodFunc call;
  Py_ssize_t min_args;
  Py_ssize_t max_args;
  const char* doc;
};

// Puts a fast-method descriptor for each def (up to a NULL name) in `type`'s
// dict. `defs` must outlive the type (a static table). 0, or -1 with an
// exception set.
int add_fast_methods(PyTypeObject* type, const FastMethodDef* defs);

}  // namespace pyrometer::agent::py
