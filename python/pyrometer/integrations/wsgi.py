"""Generic WSGI middleware: one SERVER span per request, continuing an incoming traceparent.

Frameworks (Flask, Django) wrap their WSGI entry with it and name the route through
``current_request()``; a nested middleware sees the outer request and adds no second span.
"""

from __future__ import annotations

import contextvars
from typing import Any, Callable, Iterable, Iterator

from pyrometer.integrations import _common

TARGET = None  # a helper for the framework integrations; nothing to patch on import
SUPPORTED = "PEP 3333"

KNOWN_METHODS = frozenset(
    ("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "QUERY")
)
_PROPAGATION = (("traceparent", "HTTP_TRACEPARENT"), ("tracestate", "HTTP_TRACESTATE"),
                ("baggage", "HTTP_BAGGAGE"))  # fmt: skip

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


def _attributes(environ: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    method, original = method_of(str(environ.get("REQUEST_METHOD", "GET")))
    host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME")
    port: Any = environ.get("SERVER_PORT")
    if host and ":" in host and not host.endswith("]"):
        host, _, port = host.rpartition(":")
    protocol = str(environ.get("SERVER_PROTOCOL", ""))
    attrs = {
        "http.request.method": method,
        "http.request.method_original": original,
        "url.path": (environ.get("SCRIPT_NAME") or "") + (environ.get("PATH_INFO") or "/"),
        "url.scheme": environ.get("wsgi.url_scheme"),
        "server.address": host,
        "server.port": int(port) if port and str(port).isdigit() else None,
        "client.address": environ.get("REMOTE_ADDR"),
        "user_agent.original": environ.get("HTTP_USER_AGENT"),
        "network.protocol.version": protocol.partition("/")[2] or None,
    }
    return method, attrs


def start_request(environ: dict[str, Any]) -> _common.Span:
    method, attrs = _attributes(environ)
    verb = method if method != "_OTHER" else "HTTP"
    # tracestate and baggage mean nothing without a traceparent: skip the dict when it is absent
    headers = (
        {k: environ[e] for k, e in _PROPAGATION if e in environ}
        if "HTTP_TRACEPARENT" in environ
        else None
    )
    span = _common.start(verb, _common.SERVER, attrs, headers)
    span.method = verb
    return span


class _Body:
    """The app's response iterable, unchanged, ending the span when the server closes it."""

    def __init__(self, inner: Iterable[bytes], span: _common.Span) -> None:
        self._inner = inner
        self._span: _common.Span | None = span

    def __iter__(self) -> Iterator[bytes]:
        # The request's span is current again while the app produces each chunk, so work done
        # in a streaming generator (queries, calls) is parented to the request.
        inner = iter(self._inner)
        while True:
            token = _reattach(self._span)
            try:
                chunk = next(inner)
            except StopIteration:
                return
            except BaseException as exc:
                _fail(self._span, exc)
                raise
            finally:
                _release(token)
            yield chunk

    def close(self) -> None:
        # Also current while the app's close() runs: a generator closed mid-way restores, as
        # it leaves its own spans, the context it saw when it ran (ours), not the server's.
        token = _reattach(self._span)
        try:
            close = getattr(self._inner, "close", None)
            if close is not None:
                close()
        except BaseException as exc:
            _fail(self._span, exc)
            raise
        finally:
            _release(token)
            span, self._span = self._span, None
            _end(span)


def _reattach(span: _common.Span | None) -> Any:
    if span is None:
        return None
    try:
        tracer = _common._tracer or _common._native_tracer()
        if tracer and type(span.native) is tracer[3]:
            return tracer[1](span.native)
        return _common._api().attach(span.native)
    except Exception as err:
        _common.fault("wsgi", "reattach", err)
        return None


def _release(token: Any) -> None:
    if token is not None:
        try:
            _common._detach(token)
        except Exception as err:
            _common.fault("wsgi", "release", err)


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

    def traced_start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        try:
            set_status(span, int(str(status).split(" ", 1)[0]))
        except Exception as err:
            _common.fault(framework, "status", err)
        if exc_info is None:
            return start_response(status, headers)
        return start_response(status, headers, exc_info)

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
    if isinstance(result, (list, tuple)) or (
        isinstance(file_wrapper, type) and isinstance(result, file_wrapper)
    ):
        _end(span)  # fully built (or sendfile-able: keep the server's fast path)
        return result
    return _Body(result, span)


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
