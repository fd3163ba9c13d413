"""Generic ASGI middleware: one SERVER span per HTTP request, continuing an incoming traceparent;
a websocket connection is one span whose messages are counted, not traced; lifespan passes.

Frameworks (Starlette, FastAPI) wrap their app with it and put the route template in
``scope["route"]``, read when the request ends.
"""

from __future__ import annotations

import functools
from typing import Any, Awaitable, Callable, MutableMapping

from pyrometer.integrations import _common

TARGET = None  # a helper for the framework integrations; nothing to patch on import
SUPPORTED = "ASGI 3"

Scope = MutableMapping[str, Any]
App = Callable[
    [Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]
]


def record_error(span: Any, exc: BaseException) -> None:
    """``trace_asgi``'s on_error: ``exc`` with its structured stack on the request span."""
    try:
        _common.record_exception(span, exc)
    except Exception as err:
        _common.fault("asgi", "record", err)


def _already_traced(native: Any) -> bool:
    """A request span is current: an outer layer (a mounting app) traces this request."""
    span = native.current_span()
    return span is not None and span.kind == 2 and span.is_local_root and span.is_recording


def _route(scope: Scope, root_path: str) -> str | None:
    """The route template; under a Mount, prefixed with what the mounts added to root_path."""
    path = getattr(scope.get("route"), "path", None)
    if path is None:
        return None
    mounted = str(scope.get("root_path") or "")
    prefix = mounted[len(root_path) :] if mounted.startswith(root_path) else ""
    return prefix + path if prefix and not path.startswith(prefix) else path


def _finish(
    native: Any, span: Any, scope: Scope, framework: str, status: int | None,
    exc: BaseException | None, root_path: str,
) -> None:  # fmt: skip
    """Records ``exc`` (a 500 unless a status was sent), the route and status; ends the span."""
    route = None
    try:
        route = _route(scope, root_path)
        if exc is not None:
            _common.record_exception(span, exc)
            if status is None and scope["type"] == "http":
                status = 500
    except Exception as err:
        _common.fault(framework, "finish", err)
    try:
        native.finish_http_span(span, status, route)
    except Exception as err:
        _common.fault(framework, "end", err)


def call(
    app: App, scope: Scope, receive: Any, send: Any, framework: str = "asgi", owner: Any = None
) -> Awaitable[None]:
    """One ASGI connection of ``app`` traced (``app(owner, scope, receive, send)`` when an owner
    is given), as an awaitable; messages and exceptions pass unchanged.

    An http request with a dict scope (what servers pass) goes through the native
    ``trace_asgi``: no Python frame of ours runs while the app does. A websocket connection, a
    scope of another mapping type, and any request on Python < 3.10 take the Python path.
    """
    kind = scope.get("type")
    native = _common.native()
    if (kind != "http" and kind != "websocket") or not native:
        return app(scope, receive, send) if owner is None else app(owner, scope, receive, send)
    trace_asgi = getattr(native, "trace_asgi", None)
    if kind == "http" and trace_asgi is not None and isinstance(scope, dict):
        return trace_asgi(app, owner, scope, receive, send, record_error)  # type: ignore[no-any-return]
    return _call_python(native, app, scope, receive, send, framework, owner)


async def _call_python(
    native: Any, app: App, scope: Scope, receive: Any, send: Any, framework: str, owner: Any
) -> None:
    kind = scope.get("type")
    if owner is not None:
        app = functools.partial(app, owner)
    try:
        if _already_traced(native):
            return await app(scope, receive, send)
        span = native.start_asgi_span(scope)
        if type(span) is not native.Span:
            return await app(scope, receive, send)  # disabled at run time
    except Exception as err:
        _common.fault(framework, "start", err)
        return await app(scope, receive, send)
    root_path = str(scope.get("root_path") or "")
    status: int | None = None
    counts = [0, 0]  # websocket messages received, sent

    async def traced_send(message: Any) -> None:
        nonlocal status
        if status is None and message.get("type") == "http.response.start":
            status = message.get("status")  # also a websocket denial response
        elif kind == "websocket" and message.get("type") == "websocket.send":
            counts[1] += 1
        await send(message)

    async def traced_receive() -> Any:
        message = await receive()
        if message.get("type") == "websocket.receive":
            counts[0] += 1
        return message

    try:
        await app(scope, traced_receive if kind == "websocket" else receive, traced_send)
    except BaseException as exc:
        _finish(native, span, scope, framework, status, exc, root_path)
        raise
    if kind == "websocket":
        span.set_attribute("websocket.messages.received", counts[0])
        span.set_attribute("websocket.messages.sent", counts[1])
    _finish(native, span, scope, framework, status, None, root_path)


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
