"""Generic WSGI middleware: one SERVER span per request, continuing an incoming traceparent.

Frameworks (Flask, Django) wrap their WSGI entry with it and name the route through
``current_request()``; a nested middleware sees the outer request and adds no second span.
"""

from __future__ import annotations

import contextvars
from typing import Any, Callable

from pyrometer.integrations import _common

TARGET = None  # a helper for the framework integrations; nothing to patch on import
SUPPORTED = "PEP 3333"

KNOWN_METHODS = frozenset(
    ("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "QUERY")
)

_request: contextvars.ContextVar[_common.Span | None] = contextvars.ContextVar(
    "pyrometer_wsgi_request", default=None
)


def current_request() -> _common.Span | None:
    """The SERVER span of the request being handled in this context, if we traced it."""
    return _request.get()


def method_of(raw: str) -> tuple[str, str | None]:
    """Semconv method: known methods as-is, anything else ``_OTHER`` (plus the original)."""
    if raw in KNOWN_METHODS:
        return raw, None
    upper = raw.upper()
    return (upper, None) if upper in KNOWN_METHODS else ("_OTHER", raw)


def set_route(span: _common.Span, route: str | None) -> None:
    """Names the span ``{METHOD} {route}`` once the framework has matched the URL."""
    if not route:
        return
    span.set("http.route", route)
    span.rename(f"{span.method or 'HTTP'} {route}")


def set_status(span: _common.Span, code: int) -> None:
    span.status_code = code
    span.set("http.response.status_code", code)
    if code >= 500:
        if span.pending_exc is not None:
            span.error(span.pending_exc)
            span.pending_exc = None
        else:
            span.set_error_type(str(code))


def start_request(environ: dict[str, Any]) -> _common.Span:
    """Starts the request's SERVER span (current) from the environ: the native tracer reads the
    CGI variables and an incoming traceparent in one call."""
    native = _common.native()
    span = native.start_wsgi_span(environ) if native else None
    if span is None or type(span) is not native.Span:  # agent off, or disabled at run time
        return _common.start("HTTP", _common.SERVER)
    request = _common.Span(span, native.attach(span))
    request.method = span.name  # the verb the span is named by: GET, or HTTP for others
    return request


def _fail(span: _common.Span | None, exc: BaseException) -> None:
    if span is None:
        return
    try:
        span.error(exc)
        if span.status_code is None:
            span.set("http.response.status_code", 500)
    except Exception as err:
        _common.fault("wsgi", "record", err)


def _end(span: _common.Span | None) -> None:
    if span is None:
        return
    try:
        span.end()
    except Exception as err:
        _common.fault("wsgi", "end", err)


def call(
    app: Callable[..., Any], environ: dict[str, Any], start_response: Callable[..., Any],
    framework: str = "wsgi",
) -> Any:  # fmt: skip
    """Runs one WSGI request of ``app`` traced. Responses, headers and exceptions are unchanged."""
    if _request.get() is not None:
        return app(environ, start_response)  # an outer layer already traces this request
    try:
        span = start_request(environ)
        token = _request.set(span)
    except Exception as err:
        _common.fault(framework, "start", err)
        return app(environ, start_response)

    native = _common.native()
    if native and type(span.native) is native.Span:
        # The status goes on the span in C; a 5xx through set_status (pending exceptions).
        traced_start_response = native.wsgi_start_response(
            start_response, span.native, span, set_status
        )
    else:  # the agent was disabled at run time: nothing to note
        traced_start_response = start_response

    try:
        result = app(environ, traced_start_response)
    except BaseException as exc:
        _request.reset(token)
        _fail(span, exc)
        _end(span)
        raise
    _request.reset(token)
    try:
        span.detach()
    except Exception as err:
        _common.fault(framework, "detach", err)
    file_wrapper = environ.get("wsgi.file_wrapper")
    if (
        isinstance(result, (list, tuple))
        or (isinstance(file_wrapper, type) and isinstance(result, file_wrapper))
        or not native
        or type(span.native) is not native.Span  # the agent was disabled at run time
    ):
        _end(span)  # fully built (or sendfile-able: keep the server's fast path)
        return result
    # The span is current again while the app produces each chunk (work done in a streaming
    # generator is parented to the request) and while it closes; it ends at close().
    return native.wsgi_body(result, span.native, span, _fail)


def wrap_app(app: Callable[..., Any], framework: str = "wsgi") -> Callable[..., Any]:
    """A WSGI callable that traces ``app`` (manual use: ``app = wrap_app(app)``)."""

    def traced(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return call(app, environ, start_response, framework)

    traced.__wrapped__ = app  # type: ignore[attr-defined]
    return traced


def patch() -> None:
    """Nothing to patch: use ``wrap_app`` (the framework integrations do)."""


def unpatch() -> None:
    """Nothing was patched."""
