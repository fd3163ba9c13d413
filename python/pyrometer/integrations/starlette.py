"""Starlette (and FastAPI, its subclass): ``Starlette.__call__`` runs under the ASGI middleware,
outside the whole middleware stack, so 500s from ServerErrorMiddleware are seen; background
tasks get spans.

The route template comes from ``scope["route"].path``, which Starlette's router sets.
"""

from __future__ import annotations

import sys
from typing import Any, Callable

from pyrometer.integrations import _common, _wrap, asgi

TARGET = "starlette.applications"  # the first import that can hold an app
SUPPORTED = ">=0.20,<2"
_NAME = "starlette"


def _app_call(original: Callable[..., Any]) -> Callable[..., Any]:
    native = _common.native()
    if native is not None and hasattr(native, "asgi_method"):  # CPython 3.10+

        def other(self: Any, scope: Any, receive: Any, send: Any) -> Any:
            return asgi.call(original, scope, receive, send, _NAME, self)

        # Native (py_asgi_method.cc): an http request goes straight to trace_asgi, no frame or
        # coroutine of ours; websockets and lifespan take asgi.call. It passes for the async
        # function it wraps (inspect/asyncio.iscoroutinefunction, signature: servers check).
        return native.asgi_method(original, asgi.record_error, other)

    @_wrap.wraps(original)
    async def __call__(self: Any, scope: Any, receive: Any, send: Any) -> None:
        await asgi.call(original, scope, receive, send, _NAME, self)

    return __call__


def _background_call(original: Callable[..., Any]) -> Callable[..., Any]:
    @_wrap.wraps(original)
    async def call(self: Any) -> None:
        try:
            func = self.func
            qualname = getattr(func, "__qualname__", None) or type(func).__qualname__
            name = getattr(func, "__name__", None) or qualname
            attrs = {
                "code.function.name": qualname,
                "code.namespace": getattr(func, "__module__", None),
            }
            span = _common.start(name, _common.INTERNAL, attrs)
        except Exception as err:
            _common.fault(_NAME, "background", err)
            return await original(self)
        try:
            await original(self)
        except BaseException as exc:
            try:
                span.error(exc)
            finally:
                _common.finish(span, _NAME)
            raise
        _common.finish(span, _NAME)

    return call


def patch() -> None:
    applications = sys.modules.get("starlette.applications") or __import__(
        "starlette.applications", fromlist=["Starlette"]
    )
    background = sys.modules.get("starlette.background") or __import__(
        "starlette.background", fromlist=["BackgroundTask"]
    )
    try:
        _wrap.wrap(applications.Starlette, "__call__", _app_call)
        _wrap.wrap(background.BackgroundTask, "__call__", _background_call)
    except BaseException:
        unpatch()
        raise


def unpatch() -> None:
    applications = sys.modules.get("starlette.applications")
    if applications is not None:
        _wrap.unwrap(applications.Starlette, "__call__")
    background = sys.modules.get("starlette.background")
    if background is not None:
        _wrap.unwrap(background.BackgroundTask, "__call__")
