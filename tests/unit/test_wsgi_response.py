"""The WSGI response side in C: wsgi_start_response notes the status on the request span;
wsgi_body runs the response iterable under the span and ends it at close()."""

from __future__ import annotations

import gc
from typing import Any, Iterator

import pytest
import tracer_fixtures
from tracer_fixtures import Captured

from pyrometer import _native

captured = tracer_fixtures.captured  # the fixture, used by name

failures: list[tuple[Any, BaseException]] = []


def on_error(owner: Any, exc: BaseException) -> None:
    failures.append((owner, exc))


def request_span() -> Any:
    return _native.start_span("GET", 2)


def test_chunks_run_under_the_span_which_ends_at_close(captured: Captured) -> None:
    seen: list[Any] = []
    closed: list[Any] = []

    class Streamed:
        def __iter__(self) -> Iterator[bytes]:
            for chunk in (b"a", b"b"):
                seen.append(_native.current_span())
                with _native.span("query"):
                    pass
                yield chunk

        def close(self) -> None:
            closed.append(_native.current_span())

    span = request_span()
    body = _native.wsgi_body(Streamed(), span, "owner", on_error)
    assert iter(body) is body
    assert list(body) == [b"a", b"b"]
    assert seen == [span, span] and _native.current_span() is None
    assert captured.drain() == []  # the request span is still open: nothing kept yet
    assert body.close() is None
    assert closed == [span] and _native.current_span() is None
    spans = captured.drain()
    root = next(s for s in spans if s["name"] == "GET")
    queries = [s for s in spans if s["name"] == "query"]
    assert len(queries) == 2 and all(q["parent_span_id"] == root["span_id"] for q in queries)
    assert body.close() is None and list(body) == []  # closed: idempotent, exhausted


def test_errors_while_iterating_or_closing_are_reported_and_raised(captured: Captured) -> None:
    failures.clear()

    def broken() -> Iterator[bytes]:
        yield b"ok"
        raise ValueError("mid-stream")

    span = request_span()
    body = _native.wsgi_body(broken(), span, "req", on_error)
    assert next(body) == b"ok"
    with pytest.raises(ValueError, match="mid-stream"):
        next(body)
    assert _native.current_span() is None
    body.close()

    class BadClose(list):  # type: ignore[type-arg]
        def close(self) -> None:
            raise OSError("close failed")

    body = _native.wsgi_body(BadClose([b"x"]), request_span(), "req2", on_error)
    assert list(body) == [b"x"]
    with pytest.raises(OSError, match="close failed"):
        body.close()
    assert [(o, type(e)) for o, e in failures] == [("req", ValueError), ("req2", OSError)]
    assert len(captured.drain()) == 2  # both spans ended


def test_dropped_without_close_still_ends_the_span(captured: Captured) -> None:
    body = _native.wsgi_body([b"x"], request_span(), None, on_error)
    next(body)
    del body
    gc.collect()
    assert [s["name"] for s in captured.drain()] == ["GET"]


def test_bad_arguments() -> None:
    with pytest.raises(TypeError):
        _native.wsgi_body([b"x"], "not a span", None, on_error)
    body = _native.wsgi_body(42, request_span(), None, on_error)
    with pytest.raises(TypeError):
        iter(body)
    body.close()


class Request:
    """Stands for the integration's request object (it gets ``status_code``)."""

    status_code: int | None = None


def test_start_response_notes_status_and_passes_everything_through(captured: Captured) -> None:
    calls: list[tuple[Any, ...]] = []
    errors: list[tuple[Any, int]] = []

    def server_start_response(*args: Any, **kwargs: Any) -> str:
        calls.append((args, kwargs))
        return "write"

    span = request_span()
    req = Request()
    hook = _native.wsgi_start_response(
        server_start_response, span, req, lambda owner, code: errors.append((owner, code))
    )
    assert hook("201 Created", [("X", "1")]) == "write"
    assert req.status_code == 201 and errors == []
    assert hook("503 Service Unavailable", [], ("exc", "info", None)) == "write"
    assert errors == [(req, 503)]  # 5xx: the integration's callback decides
    before = _native._tracer_stats()["internal_errors"]
    hook("OK", [])  # no status code: passed on, counted
    assert _native._tracer_stats()["internal_errors"] == before + 1
    assert calls == [
        (("201 Created", [("X", "1")]), {}),
        (("503 Service Unavailable", [], ("exc", "info", None)), {}),
        (("OK", []), {}),
    ]
    span.end()
    (s,) = captured.drain()
    assert s["attributes"]["http.response.status_code"] == 201
    with pytest.raises(TypeError):
        _native.wsgi_start_response(server_start_response, "no span", req, print)


def test_no_references_are_leaked(captured: Captured) -> None:
    import sys

    result = [b"a", b"b"]

    def start_response(*args: Any) -> None:
        return None

    def cycle() -> None:
        span = request_span()
        hook = _native.wsgi_start_response(start_response, span, Request(), on_error)
        hook("200 OK", [])
        body = _native.wsgi_body(result, span, "owner", on_error)
        assert list(body) == result
        body.close()

    cycle()
    gc.collect()
    before = [sys.getrefcount(o) for o in (result, start_response, on_error)]
    for _ in range(200):
        cycle()
    gc.collect()
    assert [sys.getrefcount(o) for o in (result, start_response, on_error)] == before
    assert len(captured.drain()) == 201
