"""W3C propagation helpers: inject/extract of traceparent, tracestate and baggage, and
start_server_span continuing a remote parent."""

from __future__ import annotations

import re

import tracer_fixtures
from tracer_fixtures import Captured

from pyrometer import api

captured = tracer_fixtures.captured  # the fixture, used by name

TID = "4bf92f3577b34da6a3ce929d0e0e4736"
PID = "00f067aa0ba902b7"


def test_inject_writes_the_current_span_as_traceparent() -> None:
    headers: dict[str, str] = {}
    api.inject(headers)
    assert headers == {}  # no current span: nothing to propagate
    with api.span("call", kind="client") as s:
        api.inject(headers)
    assert re.fullmatch(r"00-[0-9a-f]{32}-[0-9a-f]{16}-0[0-3]", headers["traceparent"])
    assert headers["traceparent"] == f"00-{s.trace_id}-{s.span_id}-03"
    assert "tracestate" not in headers and "baggage" not in headers


def test_extract_accepts_any_header_shape() -> None:
    value = f"00-{TID}-{PID}-01"
    shapes = [
        {"traceparent": value},
        {"Traceparent": value},
        {"TRACEPARENT": value},
        [(b"traceparent", value.encode())],
        [("TraceParent", value)],
        {b"traceparent": value.encode()},
    ]
    for headers in shapes:
        ctx = api.extract(headers)
        assert ctx is not None, headers
        assert ctx.trace_id == TID and ctx.span_id == PID and ctx.sampled


def test_extract_rejects_invalid_traceparents() -> None:
    for bad in [
        "",
        "00-" + "0" * 32 + f"-{PID}-01",  # zero trace id
        f"00-{TID}-{'0' * 16}-01",  # zero parent id
        f"00-{TID.upper()}-{PID}-01",  # uppercase hex
        f"ff-{TID}-{PID}-01",  # forbidden version
        f"00-{TID}-{PID}-01-extra",  # version 00 must be exactly 55 characters
    ]:
        assert api.extract({"traceparent": bad}) is None, bad
    assert api.extract({}) is None
    assert api.extract(None) is None


def test_server_span_continues_remote_trace_and_propagates_state(captured: Captured) -> None:
    incoming = {
        "traceparent": f"00-{TID}-{PID}-01",
        "tracestate": "vendor=abc,other=1",
        "baggage": "user=ada,tier=gold",
    }
    outgoing: dict[str, str] = {}
    with api.start_server_span("GET /orders", incoming, attributes={"http.route": "/orders"}):
        with api.span("call", kind="client") as call:
            api.inject(outgoing)
    spans = captured.by_name()
    server = spans["GET /orders"]
    assert server["trace_id"] == TID
    assert server["parent_span_id"] == PID
    assert server["parent_is_remote"] is True
    assert server["kind"] == "server"
    assert server["attributes"]["http.route"] == "/orders"
    assert server["trace_state"] == "vendor=abc,other=1"
    assert spans["call"]["parent_is_remote"] is False
    assert outgoing["traceparent"] == f"00-{TID}-{call.span_id}-01"
    assert outgoing["tracestate"] == "vendor=abc,other=1"
    assert outgoing["baggage"] == "user=ada,tier=gold"


def test_invalid_tracestate_is_dropped_but_traceparent_kept() -> None:
    ctx = api.extract({"traceparent": f"00-{TID}-{PID}-01", "tracestate": "BAD KEY=1"})
    assert ctx is not None and ctx.trace_state == ""


def test_server_span_without_headers_starts_a_new_trace(captured: Captured) -> None:
    s = api.start_server_span("GET /", {})
    s.end()
    (span,) = captured.drain()
    assert span["parent_span_id"] is None and span["trace_id"] != TID


def test_child_started_after_its_remote_rooted_parent_ended_keeps_tracestate(
    captured: Captured,
) -> None:
    incoming = {"traceparent": f"00-{TID}-{PID}-01", "tracestate": "vendor=abc"}
    server = api.start_server_span("GET /late", incoming)
    server.end()
    with api.span("late", parent=server):
        pass
    spans = captured.by_name()
    assert spans["late"]["trace_state"] == "vendor=abc"
    assert spans["late"]["parent_span_id"] == server.span_id
