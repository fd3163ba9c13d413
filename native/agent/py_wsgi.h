// The native WSGI request path, shared by py_wsgi_response.cc (the response
// side: start_response and body wrappers), py_wsgi_call.cc (the whole traced
// call) and py_route_hook.cc (route naming). Binding layer: needs the
// interpreter.
#pragma once

#include <Python.h>

#include "agent/py_span.h"

namespace pyrometer::agent::py {

// The request object wsgi_app/wsgi_method put on the current span or on the
// request span it was started under (PySpan::request): a new reference, or
// NULL when there is none. Never raises.
PyObject* current_request_new_ref();

// The server's start_response, wrapped: the status goes on `span` (and on
// owner.status_code) first; a 5xx calls on_status(owner, code) instead, which
// records a pending exception or the code. New reference, NULL on failure.
PyObject* new_wsgi_start_response(PyObject* start_response, PySpan* span, PyObject* owner,
                                  PyObject* on_status);

// The app's response iterable, wrapped: `span` is current while the app
// produces each chunk and while it closes (each step runs in the body's own
// Context); it ends at close() (or when the wrapper is collected). An exception of the app goes to
// on_error(owner, exc) and then on. New reference, NULL on failure.
PyObject* new_wsgi_body(PyObject* result, PySpan* span, PyObject* owner, PyObject* on_error);

}  // namespace pyrometer::agent::py
