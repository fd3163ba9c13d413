// The native ASGI request path (py_asgi_call.cc), shared with the framework
// method that runs it (py_asgi_method.cc). CPython 3.10+ only (PyIter_Send):
// before that the Python ASGI layer traces requests. Binding layer.
#pragma once

#include <Python.h>

namespace pyrometer::agent::py {

#if PY_VERSION_HEX >= 0x030A0000
// Whether `scope` is a dict with type "http" (what trace_asgi traces).
bool is_http_scope(PyObject* scope);

// func(owner, scope, receive, send) — func(scope, receive, send) when owner
// is None — traced as one HTTP request, as an awaitable started when first
// awaited (so in the awaiting task's context). Not traced: the app's own
// awaitable is returned when the agent is disabled or the scope is not
// "http"; the app runs without a span of ours when, as it starts, a request
// span is already current (an outer layer traces the request). on_error(exc)
// records an exception the app raises. New reference, NULL on error.
PyObject* trace_asgi(PyObject* func, PyObject* owner, PyObject* scope, PyObject* receive,
                     PyObject* send, PyObject* on_error);
#endif

}  // namespace pyrometer::agent::py
