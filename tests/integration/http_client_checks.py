"""Assertions shared by the HTTP client integration tests (requests, urllib3, httpx, aiohttp)."""

from __future__ import annotations

from typing import Any

from spans import Capture, Span, tree


def check_call(capture: Capture, echoed: dict[str, Any], base: str, path: str) -> Span:
    """One GET under the "job" span: the client span's shape and the traceparent the server got."""
    spans = capture.wait(2)
    assert tree(spans) == [("GET", "job"), ("job", None)]
    client = capture.one("GET", spans)
    assert client.kind == "client"
    a = client.attributes
    port = int(base.rsplit(":", 1)[1])
    assert a["http.request.method"] == "GET"
    assert a["url.full"] == base + path
    assert a["url.scheme"] == "http"
    assert a["server.address"] == "127.0.0.1" and a["server.port"] == port
    assert a["http.response.status_code"] == 200
    assert client.status == "unset"
    assert echoed["headers"]["traceparent"].startswith(f"00-{client.trace_id}-{client.span_id}-")
    return client


def check_error_status(capture: Capture) -> None:
    spans = capture.wait(2)
    client = capture.one("GET", spans)
    assert client.attributes["http.response.status_code"] == 503
    assert client.status == "error" and client.attributes["error.type"] == "503"


def check_refused(capture: Capture, error_type: str) -> None:
    spans = capture.wait(2)
    client = capture.one("GET", spans)
    assert client.status == "error"
    assert client.attributes["error.type"] == error_type
    assert "http.response.status_code" not in client.attributes
