"""Flask: every app's ``wsgi_app`` runs under the WSGI middleware; routes name the span.

Errors caught by Flask (its 500 page or an app error handler) are still recorded on the span
when the response is a 5xx; 4xx responses (NotFound, abort(403)) are not errors of the server.
"""

from __future__ import annotations

import functools
import sys
from typing import Any, Callable

from pyrometer.integrations import _common, _wrap, wsgi

TARGET = "flask"
SUPPORTED = ">=2.2,<4"
_NAME = "flask"


def _wsgi_app(original: Callable[..., Any]) -> Callable[..., Any]:
    native = _common.native()
    if native is not None:
        # Native (py_wsgi_call.cc): the request traced as wsgi.wrap_app traces an app; under
        # gunicorn's WSGI layer (traced already) the method runs untouched. No frame of ours.
        return native.wsgi_method(original, _common.Span, wsgi.set_status, wsgi._fail)
    current_request = wsgi.request_getter()

    @_wrap.wraps(original)
    def wsgi_app(self: Any, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if current_request() is not None:  # under gunicorn's WSGI layer: traced already
            return original(self, environ, start_response)
        return wsgi.call(functools.partial(original, self), environ, start_response, _NAME)

    return wsgi_app


_ROUTE_PATH = ("request", "url_rule", "rule")  # from the request context to the route template


def _full_dispatch_request(original: Callable[..., Any]) -> Callable[..., Any]:
    # The request context's ContextVar (Flask >= 2.2), read in C (py_route_hook.cc): the route
    # is named and the method called with no frame of ours, no ``flask.request`` proxy lookups.
    request_ctx = getattr(sys.modules["flask"].globals, "_cv_request", None)
    native = _common.native()
    if native is not None and request_ctx is not None:
        return native.route_method(original, request_ctx, _ROUTE_PATH)
    current_request = wsgi.request_getter()

    @_wrap.wraps(original)
    def full_dispatch_request(self: Any) -> Any:
        span = current_request()
        if span is not None:
            try:
                request = sys.modules["flask"].request
                wsgi.set_route(span, getattr(getattr(request, "url_rule", None), "rule", None))
            except Exception as err:
                _common.fault(_NAME, "route", err)
        return original(self)

    return full_dispatch_request


def _remember_exception(original: Callable[..., Any]) -> Callable[..., Any]:
    """handle_user_exception / handle_exception: keep the error until the status is known."""
    native = _common.native()
    if native is not None:
        # Native (py_error_hook.cc): handle_user_exception re-raises what no error handler
        # takes, and a Python wrapper would be a frame in the traceback the app logs.
        return native.error_method(original)
    current_request = wsgi.request_getter()

    @_wrap.wraps(original)
    def handler(self: Any, e: BaseException) -> Any:
        span = current_request()
        if span is not None:
            span.pending_exc = e
        return original(self, e)

    return handler


def patch() -> None:
    flask = sys.modules.get("flask") or __import__("flask")
    try:
        _wrap.wrap(flask.Flask, "wsgi_app", _wsgi_app)
        _wrap.wrap(flask.Flask, "full_dispatch_request", _full_dispatch_request)
        _wrap.wrap(flask.Flask, "handle_user_exception", _remember_exception)
        _wrap.wrap(flask.Flask, "handle_exception", _remember_exception)
        wsgi.mark_self_tracing(flask.Flask)  # Flask.__call__ is wsgi_app, traced above
    except BaseException:
        unpatch()
        raise


def unpatch() -> None:
    flask = sys.modules.get("flask")
    if flask is not None:
        wsgi.unmark_self_tracing(flask.Flask)
        _wrap.unwrap_all(flask.Flask)
