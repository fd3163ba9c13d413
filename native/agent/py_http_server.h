// The HTTP server request span, shared by the entry points that build it:
// started in py_http_server.cc, named and finished in py_http_route.cc, used
// by the Python-facing functions there and by the native ASGI/WSGI wrappers
// (py_asgi.h, py_wsgi_call.cc). Binding layer: needs the interpreter.
#pragma once

#include <Python.h>

#include <cstdint>

#include "agent/py_span.h"

namespace pyrometer::agent::py {

// Starts the SERVER span of an ASGI "http"/"websocket" connection from its
// scope (method, URL, peers, user agent, an incoming W3C context) and makes
// it current (its token kept in the span). NULL with an exception only on
// allocation failure; bad scope values are skipped, never raised.
PySpan* start_request_span(PyObject* scope);

// Starts the SERVER span of a WSGI request from its environ (the same
// attributes, from the CGI variables, and an incoming W3C context from
// HTTP_TRACEPARENT/TRACESTATE/BAGGAGE). Not made current: the WSGI layer
// attaches and detaches it around the app call. NULL only on allocation
// failure (exception set).
PySpan* start_wsgi_request_span(PyObject* environ);

// Sets `code` (>= 0; -1 for none) as http.response.status_code — a 5xx also
// makes the span an error typed by the code unless its status is already set
// — and `route` (str, None or NULL) as http.route, renaming the span
// "{name} {route}"; then detaches and ends it. Never raises: bad values are
// counted in internal_errors.
void finish_request_span(PySpan* s, int64_t code, PyObject* route);

// Sets `route` (str; None, "" or a bad value: nothing, the last counted) as
// http.route and renames the span "{verb} {route}", unless it ended. The
// route is published for the samplers (note_route). Never raises.
void set_request_route(PySpan* s, PyObject* verb, PyObject* route);

}  // namespace pyrometer::agent::py
