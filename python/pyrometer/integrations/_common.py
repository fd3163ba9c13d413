"""What every integration shares: span start/end through pyrometer.api, fault reporting, config.

The one place that knows the tracer's Python API, so integrations stay thin and a change there
is one edit here. Every function here is safe to call from a hook: faults are the caller's to catch.
"""

from __future__ import annotations

import contextlib
import contextvars
from typing import Any, Iterator, Mapping, MutableMapping

from pyrometer import _logging
from pyrometer.integrations import _errors

SERVER = "server"
CLIENT = "client"
PRODUCER = "producer"
CONSUMER = "consumer"
INTERNAL = "internal"

# Set while an outgoing HTTP call or a DB statement is already traced by an outer layer
# (requests over urllib3, SQLAlchemy over a DB-API driver): inner layers then add no span.
_suppress_http: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "pyrometer_suppress_http", default=False
)
_suppress_db: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "pyrometer_suppress_db", default=False
)


def suppressed_db() -> bool:
    return _suppress_db.get()


def suppressed_http() -> bool:
    return _suppress_http.get()


@contextlib.contextmanager
def suppress_db() -> Iterator[None]:
    """Statements run inside are not traced again by a driver integration (SQLAlchemy, Django)."""
    token = _suppress_db.set(True)
    try:
        yield
    finally:
        _suppress_db.reset(token)


@contextlib.contextmanager
def suppress_http() -> Iterator[None]:
    """HTTP calls inside are traced by the outer client already (requests over urllib3)."""
    token = _suppress_http.set(True)
    try:
        yield
    finally:
        _suppress_http.reset(token)


def fault(integration: str, where: str, exc: BaseException) -> None:
    """An internal error inside a hook: count it, log it once; the caller falls through."""
    _logging.report_once(
        f"integration.{integration}.{where}",
        f"pyrometer: {integration} hook failed in {where}; the call proceeds untraced",
        exc,
    )


_config_module: Any = None


def config() -> Any:
    """The process configuration (pyrometer.config.current(), loaded once)."""
    global _config_module
    if _config_module is None:
        from pyrometer import config as _config

        _config_module = _config
    return _config_module.current()


_api_module: Any = None


def _api() -> Any:
    """pyrometer.api, imported on first use (not at import: integrations load before it)."""
    global _api_module
    if _api_module is None:
        from pyrometer import api

        _api_module = api
    return _api_module


# OTLP kind numbers: the tracer parses a kind string on every call, an int it takes as is.
_KIND_NUMBERS = {INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5}

# (start_span, attach, detach, Span type) of pyrometer._native, looked up once: every request
# and statement goes through here, and going through pyrometer.api's Python wrappers cost a
# few function calls each time. False when the agent is off (pyrometer.api's no-op path).
_tracer: Any = None


def _native_tracer() -> Any:
    global _tracer
    if _tracer is None:
        native = _api()._native
        _tracer = (
            False
            if native is None
            else (native.start_span, native.attach, native.detach, native.Span)
        )
    return _tracer


_native_module: Any = None


def native() -> Any:
    """pyrometer._native when the agent is on, else None (looked up once)."""
    global _native_module
    if _native_module is None:
        _native_module = _api()._native or False
    return _native_module or None


class Span:
    """A started span that is current until ``detach`` and recorded at ``end``.

    Detaching (leaving the request's context) and ending (the body was sent) are separate so a
    streamed WSGI body is timed to close() without leaking the span into the next request.
    """

    # native/agent/py_wsgi_call.cc builds WSGI request instances without running __init__,
    # setting these slots itself (new_owner): keep the two in step.
    __slots__ = ("native", "_token", "status_code", "pending_exc", "method")

    def __init__(self, native: Any, token: Any) -> None:
        self.native = native
        self._token = token
        self.status_code: int | None = None
        self.pending_exc: BaseException | None = None
        self.method = ""  # HTTP server spans: the method part of "{METHOD} {route}"

    def set(self, key: str, value: Any) -> None:
        if value is not None:
            self.native.set_attribute(key, value)

    def rename(self, name: str) -> None:
        self.native.update_name(name)

    def error(self, exc: BaseException) -> None:
        """Records ``exc`` with its structured stack and marks the span as failed."""
        record_exception(self.native, exc)

    def fail(self, exc: BaseException) -> None:
        """A client span's failure: the exception event without locals, and ``error.type``."""
        self.native.record_exception(exc)
        self.native.set_attribute("error.type", type(exc).__qualname__)

    def set_error_type(self, error_type: str) -> None:
        self.native.set_attribute("error.type", error_type)
        self.native.set_status("error", error_type)

    def detach(self) -> None:
        token = self._token
        if token is not None:
            self._token = None
            _detach(token)

    def end(self) -> None:
        token = self._token
        if token is not None:
            self._token = None
            _detach(token)
        self.native.end()


def _detach(token: Any) -> None:
    """Restores the span current before the token's attach (a token implies a native tracer)."""
    tracer = _tracer or _native_tracer()
    if tracer:
        tracer[2](token)
    else:
        _api().detach(token)


def record_exception(native: Any, exc: BaseException) -> None:
    capture_locals = bool(getattr(config(), "capture_locals", True))
    native.record_exception(
        exc, attributes={"exception.frames": _errors.frames_json(exc, capture_locals)}
    )
    native.set_attribute("error.type", type(exc).__qualname__)


def start(
    name: str,
    kind: str,
    attributes: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Span:
    """Starts a span and makes it current. With ``headers`` (an incoming request's, lower-case
    keys), the span continues the W3C trace context they carry."""
    if headers and "traceparent" in headers:  # lower-case keys; extract() is the slow part
        api = _api()
        native = api.start_server_span(name, headers, kind, attributes or {})
        return Span(native, api.attach(native))
    tracer = _tracer or _native_tracer()
    if tracer:
        start_span, attach, _, span_type = tracer
        native = start_span(name, _KIND_NUMBERS.get(kind, kind), attributes)
        # the tracer hands back its no-op object when the agent is disabled at run time
        return Span(native, attach(native) if type(native) is span_type else None)
    api = _api()
    native = api.start_span(name, kind=kind, attributes=attributes or {})
    return Span(native, api.attach(native))


def finish(span: Span, integration: str, exc: BaseException | None = None) -> None:
    """Ends a client span (recording ``exc``); a fault here is reported, never raised."""
    try:
        if exc is not None:
            span.fail(exc)
        span.end()
    except Exception as err:
        fault(integration, "end", err)


def inject(headers: MutableMapping[str, str]) -> None:
    """Writes traceparent/tracestate/baggage of the current span into ``headers``."""
    _api().inject(headers)


def header_items(pairs: Iterator[tuple[str, str]]) -> dict[str, str]:
    """Lower-cased header dict (first value wins), the shape start_server_span expects."""
    out: dict[str, str] = {}
    for k, v in pairs:
        out.setdefault(k.lower(), v)
    return out
