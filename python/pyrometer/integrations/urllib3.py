"""urllib3: a CLIENT span around ``HTTPConnectionPool.urlopen`` (retries and redirects it
follows itself are inside that one span); trace context goes into a copy of the headers.
"""

from __future__ import annotations

import sys
from typing import Any, Callable

from pyrometer.integrations import _common, _http, _wrap

TARGET = "urllib3"
SUPPORTED = ">=1.26,<3"
_NAME = "urllib3"


def _urlopen(original: Callable[..., Any]) -> Callable[..., Any]:
    @_wrap.wraps(original)
    def urlopen(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if _common.suppressed_http():
            return original(self, method, url, *args, **kwargs)
        try:
            if "://" not in url:
                host = f"[{self.host}]" if ":" in self.host else self.host
                full = f"{self.scheme}://{host}:{self.port}{url}"
            else:
                full = url
            span = _http.start(method, full)
            # headers is the 3rd positional parameter (method, url, body, headers, ...)
            if len(args) >= 2:
                headers = _copy(args[1], self)
                _http.inject(span, headers)
                args = (args[0], headers, *args[2:])
            else:
                headers = _copy(kwargs.get("headers"), self)
                _http.inject(span, headers)
                kwargs["headers"] = headers
        except Exception as err:
            _common.fault(_NAME, "start", err)
            return original(self, method, url, *args, **kwargs)
        token = _common._suppress_http.set(True)
        try:
            response = original(self, method, url, *args, **kwargs)
        except BaseException as exc:
            _common._suppress_http.reset(token)
            _http.end(span, _NAME, None, exc)
            raise
        _common._suppress_http.reset(token)
        _http.end(span, _NAME, getattr(response, "status", None), None)
        return response

    return urlopen


def _copy(headers: Any, pool: Any) -> Any:
    """The caller's headers (or the pool's defaults) copied: we never mutate the app's dict."""
    source = pool.headers if headers is None else headers
    return source.copy() if hasattr(source, "copy") else dict(source)


def patch() -> None:
    urllib3 = sys.modules.get("urllib3") or __import__("urllib3")
    _wrap.wrap(urllib3.HTTPConnectionPool, "urlopen", _urlopen)


def unpatch() -> None:
    urllib3 = sys.modules.get("urllib3")
    if urllib3 is not None:
        _wrap.unwrap(urllib3.HTTPConnectionPool, "urlopen")
