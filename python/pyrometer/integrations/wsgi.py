"""Generic WSGI middleware: one SERVER span per request, continuing an incoming traceparent.

Frameworks (Flask, Django) wrap their WSGI entry with it and name the route through
``current_request()``; a nested middleware sees the outer request and adds no second span.
"""

from __future__ import annotations

from typing import Any, Callable

from pyrometer.integrations import _common

TARGET = None  # a helper for the framework integrations; nothing to patch on import
SUPPORTED = "PEP 3333"

KNOWN_METHODS = frozenset(
    ("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "QUERY")
)


def current_request() -> _common.Span | None:
    """The SERVER span (a _common.Span) of the request being handled in this context, if we
    traced it, else None. The native tracer keeps it on the request's span and the spans under
    it (no ContextVar of its own: one set and reset fewer per request)."""
    native = _common.native()
    return native.current_request() if native is not None else None


def request_getter() -> Callable[[], _common.Span | None]:
    """``current_request`` for a per-request hook to bind once, when it is made: the native
    function itself while the agent is on (no Python frame per call)."""
    native = _common.native()
    return native.current_request if native is not None else current_request


def method_of(raw: str) -> tuple[str, str | None]:
    """Semconv method: known methods as-is, anything else ``_OTHER`` (plus the original)."""
    if raw in KNOWN_METHODS:
        return raw, None
    upper = raw.upper()
    return (upper, None) if upper in KNOWN_METHODS else ("_OTHER", raw)


def set_route(span: _common.Span, route: str | None) -> None:
    """Names the span ``{METHOD} {route}`` once the framework has matched the URL (one native
    call: ``http.route``, the new name, and the route published for the samplers)."""
    native = _common.native()
    if route and native is not None:  # agent off: a no-op span, nothing to name
        native.set_http_route(span.native, span.method or "HTTP", route)


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


def call(
    app: Callable[..., Any], environ: dict[str, Any], start_response: Callable[..., Any],
    framework: str = "wsgi",
) -> Any:  # fmt: skip
    """Runs one WSGI request of ``app`` traced. Responses, headers and exceptions are unchanged.

    ``framework`` names the caller; the native path counts its own faults (``_tracer_stats``)."""
    del framework
    native = _common.native()
    if native is None:  # the agent is off: nothing to trace
        return app(environ, start_response)
    return native.wsgi_app(app, _common.Span, set_status, _fail)(environ, start_response)


def wrap_app(app: Callable[..., Any], framework: str = "wsgi") -> Callable[..., Any]:
    """A WSGI callable that traces ``app`` (manual use: ``app = wrap_app(app)``); ``app`` itself
    when the agent is off.

    It is native (``_native.wsgi_app``, native/agent/py_wsgi_call.cc): per request it starts the
    SERVER span from the environ (continuing an incoming traceparent), makes it current, sets
    ``current_request()`` for the framework's route naming, notes the status through a C
    ``start_response`` (a 5xx through ``set_status``: pending exceptions), records an exception
    the app raises (``_fail``), and ends the span when the response is built — a streamed body is
    wrapped so the span is current while each chunk is produced and ends at ``close()``. A
    nested layer (an outer one already traces the request) and a disabled agent call the app
    untouched. No Python frame of ours runs per request."""
    del framework
    native = _common.native()
    if native is None:
        return app
    return native.wsgi_app(app, _common.Span, set_status, _fail)


# Application classes whose instances trace their own requests (a framework integration
# hooked their WSGI entry): a server layer (gunicorn's) leaves such an app unwrapped instead of
# adding a pass-through layer — one C call and one interpreter re-entry per request fewer.
_self_tracing: set[type] = set()


def mark_self_tracing(cls: type) -> None:
    """``cls``'s instances trace every request themselves (called by the integration's patch)."""
    _self_tracing.add(cls)


def unmark_self_tracing(cls: type) -> None:
    _self_tracing.discard(cls)


def traces_itself(app: Any) -> bool:
    """True when calling ``app`` runs a marked class's hooked entry: an instance of a marked class
    that does not override its ``__call__``."""
    kind = type(app)
    return any(isinstance(app, cls) and kind.__call__ is cls.__call__ for cls in _self_tracing)


def patch() -> None:
    """Nothing to patch: use ``wrap_app`` (the framework integrations do)."""


def unpatch() -> None:
    """Nothing was patched."""
