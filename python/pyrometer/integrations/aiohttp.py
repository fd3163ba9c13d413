"""aiohttp: CLIENT spans around ``ClientSession._request`` (trace context in a copy of the
headers) and SERVER spans from a middleware put first in every ``web.Application``.

The route template is the matched resource's ``canonical`` form ("/users/{id}").
"""

from __future__ import annotations

import contextvars
import sys
from typing import Any, Callable

from pyrometer.integrations import _common, _http, _wrap
from pyrometer.integrations.wsgi import method_of, set_route, set_status

TARGET = "aiohttp"
SUPPORTED = ">=3.8,<4"
_NAME = "aiohttp"
_PROPAGATION = ("traceparent", "tracestate", "baggage")
_request_span: contextvars.ContextVar[_common.Span | None] = contextvars.ContextVar(
    "pyrometer_aiohttp_request", default=None
)


def _client_request(original: Callable[..., Any]) -> Callable[..., Any]:
    @_wrap.wraps(original)
    async def _request(self: Any, method: str, str_or_url: Any, **kwargs: Any) -> Any:
        if _common.suppressed_http():
            return await original(self, method, str_or_url, **kwargs)
        try:
            span = _http.start(method, str(str_or_url))
            headers = dict(kwargs.get("headers") or {})
            _http.inject(span, headers)
            kwargs["headers"] = headers
        except Exception as err:
            _common.fault(_NAME, "client", err)
            return await original(self, method, str_or_url, **kwargs)
        try:
            response = await original(self, method, str_or_url, **kwargs)
        except BaseException as exc:
            _http.end(span, _NAME, None, exc)
            raise
        _http.end(span, _NAME, getattr(response, "status", None), None)
        return response

    return _request


def _start_server(request: Any) -> _common.Span:
    method, original = method_of(request.method)
    host, _, port = (request.host or "").rpartition(":")
    if not host:
        host, port = request.host, ""
    peer = request.transport.get_extra_info("peername") if request.transport else None
    attrs = {
        "http.request.method": method,
        "http.request.method_original": original,
        "url.path": request.path,
        "url.scheme": request.scheme,
        "server.address": host,
        "server.port": int(port) if port.isdigit() else None,
        "client.address": peer[0] if peer else None,
        "user_agent.original": request.headers.get("User-Agent"),
    }
    carrier = {k: request.headers[k] for k in _PROPAGATION if k in request.headers}
    verb = "HTTP" if method == "_OTHER" else method
    span = _common.start(verb, _common.SERVER, attrs, carrier)
    span.method = verb
    return span


async def _middleware(request: Any, handler: Callable[..., Any]) -> Any:
    if _request_span.get() is not None:
        return await handler(request)  # a sub-application: the outer app traces the request
    try:
        span = _start_server(request)
        token = _request_span.set(span)
    except Exception as err:
        _common.fault(_NAME, "server", err)
        return await handler(request)
    web = sys.modules["aiohttp.web"]
    response, failure = None, None
    try:
        response = await handler(request)
        return response
    except web.HTTPException as exc:  # raised responses (404, redirects) are not errors per se
        response = exc
        raise
    except BaseException as exc:
        failure = exc
        raise
    finally:
        _request_span.reset(token)
        try:
            resource = getattr(getattr(request.match_info, "route", None), "resource", None)
            set_route(span, getattr(resource, "canonical", None))
            if failure is not None:
                span.error(failure)
                span.set("http.response.status_code", 500)
            elif response is not None:
                set_status(span, int(response.status))
        except Exception as err:
            _common.fault(_NAME, "server_end", err)
        _common.finish(span, _NAME)


def _app_init(original: Callable[..., Any]) -> Callable[..., Any]:
    @_wrap.wraps(original)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        try:
            kwargs["middlewares"] = [_traced_middleware(), *kwargs.get("middlewares", ())]
        except Exception as err:
            _common.fault(_NAME, "app_init", err)
        original(self, *args, **kwargs)

    return __init__


def _traced_middleware() -> Any:
    web = sys.modules["aiohttp.web"]
    return web.middleware(_middleware)


def patch() -> None:
    aiohttp = sys.modules.get("aiohttp") or __import__("aiohttp")
    web = sys.modules.get("aiohttp.web") or __import__("aiohttp.web").web
    try:
        _wrap.wrap(aiohttp.ClientSession, "_request", _client_request)
        _wrap.wrap(web.Application, "__init__", _app_init)
    except BaseException:
        unpatch()
        raise


def unpatch() -> None:
    aiohttp = sys.modules.get("aiohttp")
    if aiohttp is not None:
        _wrap.unwrap(aiohttp.ClientSession, "_request")
    web = sys.modules.get("aiohttp.web")
    if web is not None:
        _wrap.unwrap(web.Application, "__init__")
