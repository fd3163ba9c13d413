"""Outgoing HTTP calls, shared by requests, urllib3, httpx and aiohttp: CLIENT spans named
``{METHOD}``, W3C context injected into the request's headers, nested clients suppressed.

A client span fails on an exception or a status >= 400 (OTel HTTP client conventions).
"""

from __future__ import annotations

import re
from typing import Any, MutableMapping
from urllib.parse import urlsplit, urlunsplit

from pyrometer.integrations import _common
from pyrometer.integrations.wsgi import method_of

_DEFAULT_PORTS = {"http": 80, "https": 443}
_SECRET_QUERY = re.compile(
    r"(^|&)((?:[^=&]*?)(?:sig|signature|token|key|secret|password|auth|credential)[^=&]*)=([^&]*)",
    re.IGNORECASE,
)


def redact_url(url: str) -> tuple[str, Any]:
    """``url.full`` without userinfo or secret-looking query values; and the split URL."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "REDACTED:REDACTED@" + netloc.rpartition("@")[2]
    query = _SECRET_QUERY.sub(lambda m: f"{m.group(1)}{m.group(2)}=REDACTED", parts.query)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)), parts


def start(method: str, url: str) -> _common.Span:
    """Starts a CLIENT span (current) for one outgoing request."""
    name, original = method_of(method)
    full, parts = redact_url(url)
    scheme = (parts.scheme or "http").lower()
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        port = None
    attrs = {
        "http.request.method": name,
        "http.request.method_original": original,
        "url.full": full,
        "url.scheme": scheme,
        "server.address": parts.hostname,
        "server.port": port,
    }
    return _common.start("HTTP" if name == "_OTHER" else name, _common.CLIENT, attrs)


def inject(span: _common.Span, headers: MutableMapping[str, str]) -> None:
    """Writes traceparent/tracestate/baggage for ``span`` (the current span) into ``headers``."""
    _common.inject(headers)


def end(
    span: _common.Span, integration: str, status: int | None, exc: BaseException | None
) -> None:
    try:
        if status is not None:
            span.set("http.response.status_code", status)
            if status >= 400 and exc is None:
                span.set_error_type(str(status))
    except Exception as err:
        _common.fault(integration, "status", err)
    _common.finish(span, integration, exc)
