"""The native request-span entry points the ASGI integration uses: start_asgi_span builds the
SERVER span from a scope (OTel HTTP server attributes, W3C continuation) and makes it current;
finish_http_span sets status and route, detaches and ends."""

from __future__ import annotations

from collections import UserDict
from typing import Any

import pytest
import tracer_fixtures
from tracer_fixtures import Captured

from pyrometer import _native

captured = tracer_fixtures.captured  # the fixture, used by name

TID = "4bf92f3577b34da6a3ce929d0e0e4736"
PID = "00f067aa0ba902b7"


def scope(**over: Any) -> dict[str, Any]:
    s: dict[str, Any] = {
        "type": "http",
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "root_path": "",
        "path": "/items/7",
        "headers": [(b"host", b"example.test:8080"), (b"user-agent", b"wrk/4")],
        "server": ("127.0.0.1", 8000),
        "client": ("10.0.0.9", 5555),
    }
    s.update(over)
    return s


def one(captured: Captured) -> dict[str, Any]:
    spans = captured.drain()
    assert len(spans) == 1, spans
    return spans[0]


def test_request_span_attributes_route_and_status(captured: Captured) -> None:
    span = _native.start_asgi_span(scope())
    assert _native.current_span() is span
    _native.finish_http_span(span, 200, "/items/{item_id}")
    assert _native.current_span() is None
    s = one(captured)
    assert s["name"] == "GET /items/{item_id}" and s["kind"] == "server"
    assert s["parent_span_id"] is None and s["status_code"] == "unset"
    attrs = dict(s["attributes"])
    assert attrs.pop("pyrometer.keep_reason") == "sampled"
    assert attrs == {
        "http.request.method": "GET",
        "url.path": "/items/7",
        "url.scheme": "http",
        "server.address": "example.test",
        "server.port": 8080,
        "client.address": "10.0.0.9",
        "client.port": 5555,
        "user_agent.original": "wrk/4",
        "network.protocol.version": "1.1",
        "http.response.status_code": 200,
        "http.route": "/items/{item_id}",
    }


def test_server_tuple_when_no_host_header_and_missing_fields(captured: Captured) -> None:
    bare = {"type": "http", "method": "POST", "headers": [], "server": ("10.1.1.1", 81)}
    _native.finish_http_span(_native.start_asgi_span(bare), None, None)
    s = one(captured)
    assert s["name"] == "POST"
    assert s["attributes"]["server.address"] == "10.1.1.1"
    assert s["attributes"]["server.port"] == 81
    assert s["attributes"]["url.path"] == "/" and s["attributes"]["url.scheme"] == "http"
    for absent in ("client.address", "user_agent.original", "http.response.status_code"):
        assert absent not in s["attributes"]


def test_methods_known_lowercase_and_unknown(captured: Captured) -> None:
    for raw, name, attr, original in (
        ("patch", "PATCH", "PATCH", None),
        ("PURGE", "HTTP", "_OTHER", "PURGE"),
    ):
        _native.finish_http_span(_native.start_asgi_span(scope(method=raw)), 204, None)
        s = one(captured)
        assert s["name"] == name
        assert s["attributes"]["http.request.method"] == attr
        assert s["attributes"].get("http.request.method_original") == original


def test_root_path_mount_and_ipv6_host(captured: Captured) -> None:
    headers = [(b"Host", b"[::1]")]
    span = _native.start_asgi_span(scope(root_path="/api", path="/v1", headers=headers))
    _native.finish_http_span(span, 200, None)
    s = one(captured)
    assert s["attributes"]["url.path"] == "/api/v1"
    assert s["attributes"]["server.address"] == "[::1]"
    assert s["attributes"]["server.port"] == 8000  # from the scope's server tuple


def test_latin1_header_values_become_utf8(captured: Captured) -> None:
    span = _native.start_asgi_span(scope(headers=[(b"user-agent", "café".encode("latin-1"))]))
    _native.finish_http_span(span, 200, None)
    assert one(captured)["attributes"]["user_agent.original"] == "café"


def test_incoming_traceparent_is_continued(captured: Captured) -> None:
    headers = [
        (b"traceparent", f"00-{TID}-{PID}-01".encode()),
        (b"tracestate", b"vendor=1"),
        (b"baggage", b"user=alice"),
    ]
    span = _native.start_asgi_span(scope(headers=headers))
    assert _native.inject()[1:] == ("vendor=1", "user=alice")
    _native.finish_http_span(span, 200, None)
    s = one(captured)
    assert s["trace_id"] == TID and s["parent_span_id"] == PID and s["parent_is_remote"]
    assert s["trace_state"] == "vendor=1"


def test_malformed_traceparent_starts_a_new_trace(captured: Captured) -> None:
    span = _native.start_asgi_span(scope(headers=[(b"traceparent", b"00-zz-yy-01")]))
    _native.finish_http_span(span, 200, None)
    s = one(captured)
    assert s["parent_span_id"] is None and s["trace_id"] != TID


def test_server_error_status_and_recorded_exception_wins(captured: Captured) -> None:
    _native.finish_http_span(_native.start_asgi_span(scope()), 503, None)
    s = one(captured)
    assert s["status_code"] == "error" and s["status_message"] == "503"
    assert s["attributes"]["error.type"] == "503"

    span = _native.start_asgi_span(scope())
    try:
        raise KeyError("boom")
    except KeyError as exc:
        span.record_exception(exc)
        span.set_attribute("error.type", "KeyError")
    _native.finish_http_span(span, 500, "/items/{item_id}")
    s = one(captured)
    assert s["status_code"] == "error" and s["attributes"]["error.type"] == "KeyError"
    assert s["attributes"]["http.response.status_code"] == 500


def test_websocket_scope_and_mapping_scope(captured: Captured) -> None:
    ws = UserDict(scope(type="websocket", scheme=None, method=None))
    _native.finish_http_span(_native.start_asgi_span(ws), None, "/ws")
    s = one(captured)
    assert s["name"] == "WEBSOCKET /ws"
    assert s["attributes"]["url.scheme"] == "ws"
    assert s["attributes"]["http.request.method"] == "GET"


def test_nested_under_a_current_span_is_a_child(captured: Captured) -> None:
    with _native.span("outer") as outer:
        span = _native.start_asgi_span(scope())
        _native.finish_http_span(span, 200, None)
        assert _native.current_span() is outer
    spans = captured.by_name()
    assert spans["GET"]["parent_span_id"] == spans["outer"]["span_id"]


def test_bad_values_are_counted_never_raised(captured: Captured) -> None:
    before = _native._tracer_stats()["internal_errors"]
    span = _native.start_asgi_span(scope(headers="not headers", server=5, client=None))
    _native.finish_http_span(span, "200", 7)
    s = one(captured)
    assert s["name"] == "GET" and "http.response.status_code" not in s["attributes"]
    assert _native._tracer_stats()["internal_errors"] == before + 2  # the status and the route
    _native.finish_http_span(span, 200, None)  # ended already: nothing happens
    assert captured.drain() == []
    _native.finish_http_span(None, 200, None)  # not a span (the no-op object): nothing
    with pytest.raises(TypeError):
        _native.finish_http_span(span, 200)  # type: ignore[call-arg]


def environ(**over: Any) -> dict[str, Any]:
    e: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "/app",
        "PATH_INFO": "/users/7",
        "SERVER_NAME": "internal",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "example.test:8443",
        "HTTP_USER_AGENT": "curl/8",
        "REMOTE_ADDR": "10.0.0.9",
        "wsgi.url_scheme": "https",
    }
    e.update(over)
    return {k: v for k, v in e.items() if v is not None}


def test_wsgi_request_span_from_environ(captured: Captured) -> None:
    span = _native.start_wsgi_span(environ())
    assert _native.current_span() is None  # started, not current: the WSGI layer attaches it
    _native.finish_http_span(span, 200, "/users/<int:id>")
    s = one(captured)
    assert s["name"] == "GET /users/<int:id>" and s["kind"] == "server"
    attrs = dict(s["attributes"])
    assert attrs.pop("pyrometer.keep_reason") == "sampled"
    assert attrs == {
        "http.request.method": "GET",
        "url.path": "/app/users/7",
        "url.scheme": "https",
        "server.address": "example.test",
        "server.port": 8443,
        "client.address": "10.0.0.9",
        "user_agent.original": "curl/8",
        "network.protocol.version": "1.1",
        "http.response.status_code": 200,
        "http.route": "/users/<int:id>",
    }


def test_wsgi_fallbacks_and_unknown_method(captured: Captured) -> None:
    bare = environ(
        REQUEST_METHOD="PURGE", HTTP_HOST=None, SCRIPT_NAME=None, PATH_INFO="",
        SERVER_PROTOCOL="HTTP", HTTP_USER_AGENT=None, REMOTE_ADDR=None,
    )  # fmt: skip
    _native.finish_http_span(_native.start_wsgi_span(bare), 204, None)
    s = one(captured)
    assert s["name"] == "HTTP"
    assert s["attributes"]["http.request.method"] == "_OTHER"
    assert s["attributes"]["http.request.method_original"] == "PURGE"
    assert s["attributes"]["server.address"] == "internal"  # SERVER_NAME without a Host header
    assert s["attributes"]["server.port"] == 8000  # SERVER_PORT
    assert s["attributes"]["url.path"] == "/"
    for absent in ("network.protocol.version", "user_agent.original", "client.address"):
        assert absent not in s["attributes"]
    # A Host header with a bad port: the host, and no port (SERVER_PORT describes another name)
    _native.finish_http_span(_native.start_wsgi_span(environ(HTTP_HOST="h:x")), 200, None)
    s = one(captured)
    assert s["attributes"]["server.address"] == "h" and "server.port" not in s["attributes"]


def test_wsgi_incoming_traceparent(captured: Captured) -> None:
    env = environ(HTTP_TRACEPARENT=f"00-{TID}-{PID}-01", HTTP_TRACESTATE="v=1", HTTP_BAGGAGE="k=v")
    span = _native.start_wsgi_span(env)
    token = _native.attach(span)
    assert _native.inject()[1:] == ("v=1", "k=v")
    _native.detach(token)
    _native.finish_http_span(span, 200, None)
    s = one(captured)
    assert s["trace_id"] == TID and s["parent_span_id"] == PID and s["parent_is_remote"]


@pytest.mark.parametrize(
    ("verb", "route"),
    [("GET", "/items/<id>"), ("GET", "/café/<id>"), ("PÜT", "/x"), ("GET", "/日本/{id}")],
)
def test_the_route_name_joins_verb_and_route_in_any_script(
    captured: Captured, verb: str, route: str
) -> None:
    span = _native.start_wsgi_span(environ())
    _native.set_http_route(span, verb, route)
    assert span.name == f"{verb} {route}"
    span.end()
    root = one(captured)
    assert root["name"] == f"{verb} {route}" and root["attributes"]["http.route"] == route


def test_set_http_route_names_the_span_once_per_route(captured: Captured) -> None:
    span = _native.start_wsgi_span(environ())
    _native.set_http_route(span, "GET", "/items/<id>")
    _native.set_http_route(span, "GET", "/items/<int:id>")  # matched again: replaced, not appended
    before = _native._tracer_stats()["internal_errors"]
    _native.set_http_route(span, "GET", None)  # nothing matched: unchanged
    _native.set_http_route(span, "GET", "")
    _native.set_http_route(span, "GET", 42)  # a bad value: counted, never raised
    assert _native._tracer_stats()["internal_errors"] == before + 1
    _native.set_http_route("not a span", "GET", "/x")  # ignored
    span.end()
    _native.set_http_route(span, "GET", "/late")  # ended: ignored
    root = one(captured)
    assert root["name"] == "GET /items/<int:id>"
    assert root["attributes"]["http.route"] == "/items/<int:id>"
    with pytest.raises(TypeError):
        _native.set_http_route(span, "GET")
