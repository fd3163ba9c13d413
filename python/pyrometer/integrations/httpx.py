"""httpx: CLIENT spans around ``Client.send`` and ``AsyncClient.send`` (redirects included),
with trace context written into the request's headers.
"""

from __future__ import annotations

import sys
from typing import Any, Callable

from pyrometer.integrations import _common, _http, _wrap

TARGET = "httpx"
SUPPORTED = ">=0.23,<1"
_NAME = "httpx"


def _begin(request: Any) -> _common.Span | None:
    if _common.suppressed_http():
        return None
    try:
        span = _http.start(str(request.method), str(request.url))
        _http.inject(span, request.headers)
        return span
    except Exception as err:
        _common.fault(_NAME, "start", err)
        return None


def _send(original: Callable[..., Any]) -> Callable[..., Any]:
    @_wrap.wraps(original)
    def send(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        span = _begin(request)
        if span is None:
            return original(self, request, *args, **kwargs)
        try:
            response = original(self, request, *args, **kwargs)
        except BaseException as exc:
            _http.end(span, _NAME, None, exc)
            raise
        _http.end(span, _NAME, getattr(response, "status_code", None), None)
        return response

    return send


def _send_async(original: Callable[..., Any]) -> Callable[..., Any]:
    @_wrap.wraps(original)
    async def send(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        span = _begin(request)
        if span is None:
            return await original(self, request, *args, **kwargs)
        try:
            response = await original(self, request, *args, **kwargs)
        except BaseException as exc:
            _http.end(span, _NAME, None, exc)
            raise
        _http.end(span, _NAME, getattr(response, "status_code", None), None)
        return response

    return send


def patch() -> None:
    httpx = sys.modules.get("httpx") or __import__("httpx")
    try:
        _wrap.wrap(httpx.Client, "send", _send)
        _wrap.wrap(httpx.AsyncClient, "send", _send_async)
    except BaseException:
        unpatch()
        raise


def unpatch() -> None:
    httpx = sys.modules.get("httpx")
    if httpx is not None:
        _wrap.unwrap(httpx.Client, "send")
        _wrap.unwrap(httpx.AsyncClient, "send")
