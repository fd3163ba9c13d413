"""requests: a CLIENT span around ``Session.send`` with trace context in the request headers.

The whole logical request (redirect hops included) is one span; urllib3 underneath adds none.
"""

from __future__ import annotations

import sys
from typing import Any, Callable

from pyrometer.integrations import _common, _http, _wrap

TARGET = "requests"
SUPPORTED = ">=2.20,<3"
_NAME = "requests"


def _send(original: Callable[..., Any]) -> Callable[..., Any]:
    @_wrap.wraps(original)
    def send(self: Any, request: Any, **kwargs: Any) -> Any:
        if _common.suppressed_http():
            return original(self, request, **kwargs)
        try:
            span = _http.start(str(request.method), str(request.url))
            _http.inject(span, request.headers)
        except Exception as err:
            _common.fault(_NAME, "start", err)
            return original(self, request, **kwargs)
        token = _common._suppress_http.set(True)
        try:
            response = original(self, request, **kwargs)
        except BaseException as exc:
            _common._suppress_http.reset(token)
            _http.end(span, _NAME, None, exc)
            raise
        _common._suppress_http.reset(token)
        _http.end(span, _NAME, getattr(response, "status_code", None), None)
        return response

    return send


def patch() -> None:
    requests = sys.modules.get("requests") or __import__("requests")
    _wrap.wrap(requests.Session, "send", _send)


def unpatch() -> None:
    requests = sys.modules.get("requests")
    if requests is not None:
        _wrap.unwrap(requests.Session, "send")
