"""Django: a middleware put first in MIDDLEWARE when the handler loads its middleware (sync and
async), route templates from the resolver, template render spans, and ORM statement spans
through ``connection.execute_wrapper`` installed as each connection is created.

Exceptions Django turns into 500 pages are caught from ``got_request_exception``.
"""

from __future__ import annotations

import sys
from typing import Any, Callable

from pyrometer.integrations import _common, _wrap, dbapi, wsgi

TARGET = "django.core.handlers.base"  # imported when a WSGI/ASGI handler is first built
SUPPORTED = ">=3.2,<6"
_NAME = "django"
MIDDLEWARE = "pyrometer.integrations.django.PyrometerMiddleware"
_ATTR = "_pyrometer_span"


def _begin(request: Any) -> _common.Span | None:
    """The request's SERVER span; None when an outer WSGI layer traces it (route set there)."""
    try:
        if wsgi.current_request() is not None:
            return None
        meta = dict(request.META)
        meta.setdefault("wsgi.url_scheme", request.scheme)
        span = wsgi.start_request(meta)
        setattr(request, _ATTR, span)
        return span
    except Exception as err:
        _common.fault(_NAME, "start", err)
        return None


def _finish(
    request: Any, span: _common.Span | None, response: Any, exc: BaseException | None
) -> None:
    try:
        outer = span or wsgi.current_request()
        if outer is None:
            return
        match = getattr(request, "resolver_match", None)
        route = getattr(match, "route", None)
        wsgi.set_route(outer, "/" + route.lstrip("^") if route is not None else None)
        if span is None:
            return
        if exc is not None:
            span.error(exc)
            span.set("http.response.status_code", 500)
        elif response is not None:
            wsgi.set_status(span, int(response.status_code))
            if getattr(response, "streaming", False) and hasattr(response, "_resource_closers"):
                response._resource_closers.append(span.end)  # timed to the body's close()
                span.detach()
                return
        span.end()
    except Exception as err:
        _common.fault(_NAME, "finish", err)


class PyrometerMiddleware:
    """First in MIDDLEWARE: one SERVER span around everything Django does for a request."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[..., Any]) -> None:
        self.get_response = get_response
        from asgiref.sync import iscoroutinefunction, markcoroutinefunction

        self._async = iscoroutinefunction(get_response)
        if self._async:
            markcoroutinefunction(self)

    def __call__(self, request: Any) -> Any:
        if self._async:
            return self._acall(request)
        span = _begin(request)
        try:
            response = self.get_response(request)
        except BaseException as exc:
            _finish(request, span, None, exc)
            raise
        _finish(request, span, response, None)
        return response

    async def _acall(self, request: Any) -> Any:
        span = _begin(request)
        try:
            response = await self.get_response(request)
        except BaseException as exc:
            _finish(request, span, None, exc)
            raise
        _finish(request, span, response, None)
        return response


def _on_exception(sender: Any, request: Any = None, **kwargs: Any) -> None:
    """got_request_exception: keep the error until the status says it was a 5xx."""
    span = getattr(request, _ATTR, None) or wsgi.current_request()
    if span is not None:
        span.pending_exc = sys.exc_info()[1]


def _load_middleware(original: Callable[..., Any]) -> Callable[..., Any]:
    @_wrap.wraps(original)
    def load_middleware(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            settings = sys.modules["django.conf"].settings
            current = list(settings.MIDDLEWARE or ())
            if MIDDLEWARE not in current:
                settings.MIDDLEWARE = [MIDDLEWARE, *current]
        except Exception as err:
            _common.fault(_NAME, "load_middleware", err)
        return original(self, *args, **kwargs)

    return load_middleware


def _execute_wrapper(
    execute: Callable[..., Any], sql: Any, params: Any, many: bool, context: Any
) -> Any:
    connection = context["connection"]

    def attrs() -> dict[str, Any]:
        s = connection.settings_dict
        port = s.get("PORT")
        return {
            "server.address": s.get("HOST") or None,
            "server.port": int(port) if str(port or "").isdigit() else None,
            "db.namespace": str(s.get("NAME") or "") or None,
        }

    system = {"postgresql": "postgresql", "sqlite": "sqlite", "mysql": "mysql"}.get(
        connection.vendor, connection.vendor
    )
    return dbapi.traced(_NAME, system, sql, attrs, execute, sql, params, many, context)


def _on_connection(sender: Any, connection: Any = None, **kwargs: Any) -> None:
    try:
        if _execute_wrapper not in connection.execute_wrappers:
            connection.execute_wrappers.append(_execute_wrapper)
    except Exception as err:
        _common.fault(_NAME, "connection_created", err)


def _render(original: Callable[..., Any]) -> Callable[..., Any]:
    @_wrap.wraps(original)
    def render(self: Any, context: Any) -> Any:
        try:
            name = getattr(self, "name", None) or getattr(self.origin, "template_name", None)
            attrs = {"code.namespace": "django.template", "template.name": name}
            span = _common.start(f"render {name or '<string>'}", _common.INTERNAL, attrs)
        except Exception as err:
            _common.fault(_NAME, "render", err)
            return original(self, context)
        try:
            result = original(self, context)
        except BaseException as exc:
            _common.finish(span, _NAME, exc)
            raise
        _common.finish(span, _NAME)
        return result

    return render


def patch() -> None:
    base = sys.modules.get(TARGET) or __import__(TARGET, fromlist=["BaseHandler"])
    from django.core.signals import got_request_exception
    from django.db.backends.signals import connection_created
    from django.template import base as template_base

    try:
        _wrap.wrap(base.BaseHandler, "load_middleware", _load_middleware)
        _wrap.wrap(template_base.Template, "render", _render)
        got_request_exception.connect(_on_exception, dispatch_uid=_ATTR)
        connection_created.connect(_on_connection, dispatch_uid=_ATTR)
    except BaseException:
        unpatch()
        raise


def unpatch() -> None:
    conf = sys.modules.get("django.conf")
    if conf is not None and conf.settings.configured and MIDDLEWARE in conf.settings.MIDDLEWARE:
        conf.settings.MIDDLEWARE = [m for m in conf.settings.MIDDLEWARE if m != MIDDLEWARE]
    base = sys.modules.get(TARGET)
    if base is not None:
        _wrap.unwrap(base.BaseHandler, "load_middleware")
    template_base = sys.modules.get("django.template.base")
    if template_base is not None:
        _wrap.unwrap(template_base.Template, "render")
    if "django.core.signals" in sys.modules:
        sys.modules["django.core.signals"].got_request_exception.disconnect(dispatch_uid=_ATTR)
    if "django.db.backends.signals" in sys.modules:
        sys.modules["django.db.backends.signals"].connection_created.disconnect(dispatch_uid=_ATTR)
