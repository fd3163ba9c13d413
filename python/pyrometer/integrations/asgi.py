"""Generic ASGI middleware: one SERVER span per HTTP request, continuing an incoming traceparent;
a websocket connection is one span whose messages are counted, not traced; lifespan passes.

Frameworks (Starlette, FastAPI) wrap their app with it and put the route template in
``scope["route"]``, read when the request ends.
"""

from __future__ import annotations

import contextvars
from typing import Any, Awaitable, Callable, MutableMapping

from pyrometer.integrations import _common
from pyrometer.integrations.wsgi import method_of, set_route, set_status

TARGET = None  # a helper for the framework integrations; nothing to patch on import
SUPPORTED = "ASGI 3"

Scope = MutableMapping[str, Any]
App = Callable[
    [Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]
]

_PROPAGATION = frozenset((b"traceparent", b"tracestate", b"baggage"))
_request: contextvars.ContextVar[_common.Span | None] = contextvars.ContextVar(
    "pyrometer_asgi_request", default=None
)


def current_request() -> _common.Span | None:
    return _request.get()


def _start(scope: Scope) -> _common.Span:
    # Runs for every request: locals instead of repeated lookups, no helper calls on the
    # common path (a known method, no traceparent).
    get = scope.get
    websocket = scope["type"] == "websocket"
    method, original = ("GET", None) if websocket else method_of(str(get("method", "GET")))
    headers: dict[str, str] | None = None
    host = user_agent = None
    for k, v in get("headers") or ():
        key = k.lower()
        if key == b"host":
            host = v.decode("latin-1")
        elif key == b"user-agent":
            user_agent = v.decode("latin-1")
        elif key in _PROPAGATION:
            if headers is None:
                headers = {}
            headers.setdefault(key.decode("latin-1"), v.decode("latin-1"))
    server, client = get("server") or (None, None), get("client") or (None, None)
    port = server[1]
    if host and ":" in host and not host.endswith("]"):
        host, _, text = host.rpartition(":")
        port = int(text) if text.isdigit() else port
    attrs = {
        "http.request.method": method,
        "url.path": (get("root_path") or "") + (get("path") or "/"),
        "url.scheme": get("scheme") or ("ws" if websocket else "http"),
        "server.address": host or server[0],
        "server.port": port,
        "client.address": client[0],
        "client.port": client[1],
        "user_agent.original": user_agent,
        "network.protocol.version": get("http_version"),
    }
    if original is not None:
        attrs["http.request.method_original"] = original
    verb = "WEBSOCKET" if websocket else ("HTTP" if method == "_OTHER" else method)
    span = _common.start(verb, _common.SERVER, attrs, headers)
    span.method = verb
    return span


def _route(scope: Scope, root_path: str) -> str | None:
    """The route template; under a Mount, prefixed with what the mounts added to root_path."""
    path = getattr(scope.get("route"), "path", None)
    if path is None:
        return None
    mounted = str(scope.get("root_path") or "")
    prefix = mounted[len(root_path) :] if mounted.startswith(root_path) else ""
    return prefix + path if prefix and not path.startswith(prefix) else path


def _finish(
    span: _common.Span, scope: Scope, framework: str, exc: BaseException | None, root_path: str
) -> None:
    try:
        set_route(span, _route(scope, root_path))
        if exc is not None:
            span.error(exc)
            if span.status_code is None and scope["type"] == "http":
                span.set("http.response.status_code", 500)
    except Exception as err:
        _common.fault(framework, "finish", err)
    try:
        span.end()
    except Exception as err:
        _common.fault(framework, "end", err)


async def call(app: App, scope: Scope, receive: Any, send: Any, framework: str = "asgi") -> None:
    """Runs one ASGI connection of ``app`` traced; messages and exceptions pass unchanged."""
    kind = scope.get("type")
    if (kind != "http" and kind != "websocket") or _request.get() is not None:
        return await app(scope, receive, send)  # lifespan, or already traced by an outer layer
    try:
        span = _start(scope)
        token = _request.set(span)
    except Exception as err:
        _common.fault(framework, "start", err)
        return await app(scope, receive, send)
    root_path = str(scope.get("root_path") or "")
    if kind == "websocket":
        return await _websocket(app, scope, receive, send, framework, span, token, root_path)

    async def traced_send(message: Any) -> None:
        if span.status_code is None and message.get("type") == "http.response.start":
            try:
                set_status(span, int(message["status"]))
            except Exception as err:
                _common.fault(framework, "send", err)
        await send(message)

    try:
        await app(scope, receive, traced_send)
    except BaseException as exc:
        _request.reset(token)
        _finish(span, scope, framework, exc, root_path)
        raise
    _request.reset(token)
    _finish(span, scope, framework, None, root_path)


async def _websocket(
    app: App, scope: Scope, receive: Any, send: Any, framework: str, span: _common.Span,
    token: Any, root_path: str,
) -> None:  # fmt: skip
    """One websocket connection: one span, its messages counted, not traced."""
    counts = [0, 0]  # websocket messages received, sent

    async def traced_receive() -> Any:
        message = await receive()
        if message.get("type") == "websocket.receive":
            counts[0] += 1
        return message

    async def traced_send(message: Any) -> None:
        kind = message.get("type")
        try:
            if kind == "http.response.start":  # a denial response (websocket.http.response)
                set_status(span, int(message["status"]))
            elif kind == "websocket.send":
                counts[1] += 1
        except Exception as err:
            _common.fault(framework, "send", err)
        await send(message)

    try:
        await app(scope, traced_receive, traced_send)
    except BaseException as exc:
        _request.reset(token)
        _finish(span, scope, framework, exc, root_path)
        raise
    _request.reset(token)
    span.set("websocket.messages.received", counts[0])
    span.set("websocket.messages.sent", counts[1])
    _finish(span, scope, framework, None, root_path)


def wrap_app(app: App, framework: str = "asgi") -> App:
    """An ASGI app that traces ``app`` (manual use: ``app = wrap_app(app)``)."""

    async def traced(scope: Scope, receive: Any, send: Any) -> None:
        await call(app, scope, receive, send, framework)

    traced.__wrapped__ = app  # type: ignore[attr-defined]
    return traced


def patch() -> None:
    """Nothing to patch: use ``wrap_app`` (the framework integrations do)."""


def unpatch() -> None:
    """Nothing was patched."""
