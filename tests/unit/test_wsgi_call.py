"""_native.wsgi_app: a traced WSGI request in C. Responses, headers and exceptions pass
unchanged; the SERVER span gets the request's attributes, status, route and errors; the
integration's request object is current while the app runs."""

from __future__ import annotations

import contextvars
import gc
import io
import sys
from typing import Any, Callable, Iterator

import pytest
import tracer_fixtures
from tracer_fixtures import Captured

from pyrometer import _native
from pyrometer.integrations import _common, wsgi

captured = tracer_fixtures.captured  # the fixture, used by name


def traced(app: Callable[..., Any]) -> Any:
    return _native.wsgi_app(app, _common.Span, wsgi.set_status, wsgi._fail)


def environ(**over: Any) -> dict[str, Any]:
    e: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/items/7",
        "SCRIPT_NAME": "",
        "QUERY_STRING": "q=1",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
    }
    e.update(over)
    return e


class Server:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def start_response(self, *args: Any) -> Callable[[bytes], None]:
        self.calls.append(args)
        return lambda data: None


def serve(app: Any, env: dict[str, Any] | None = None) -> tuple[list[bytes], Server]:
    server = Server()
    body = app(env or environ(), server.start_response)
    try:
        chunks = list(body)
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()
    return chunks, server


def test_request_span_status_and_route_with_the_request_object_current(
    captured: Captured,
) -> None:
    seen: list[Any] = []

    def app(env: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        request = wsgi.current_request()
        seen.append((request, _native.current_span()))
        wsgi.set_route(request, "/items/<id>")
        with _native.span("work"):
            pass
        start_response("201 Created", [("X-A", "1")])
        return [b"ok"]

    chunks, server = serve(traced(app))
    assert chunks == [b"ok"]
    assert server.calls == [("201 Created", [("X-A", "1")])]  # passed through unchanged
    ((request, current),) = seen
    assert isinstance(request, _common.Span) and request.native is current
    assert request.method == "GET" and request.status_code == 201
    assert wsgi.current_request() is None and _native.current_span() is None
    spans = captured.by_name()
    root, work = spans["GET /items/<id>"], spans["work"]
    assert root["kind"] == "server" and work["parent_span_id"] == root["span_id"]
    attrs = root["attributes"]
    assert attrs["http.request.method"] == "GET"
    assert attrs["http.route"] == "/items/<id>"
    assert attrs["http.response.status_code"] == 201
    assert attrs["url.path"] == "/items/7"


def test_spans_under_the_request_see_its_request_object_and_nest_no_second_request(
    captured: Captured,
) -> None:
    seen: list[Any] = []

    def inner(env: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        seen.append(("inner", wsgi.current_request()))
        start_response("200 OK", [])
        return [b"inner"]

    def app(env: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        seen.append(("request", wsgi.current_request()))
        with _native.span("middleware"):
            seen.append(("child", wsgi.current_request()))
            # a WSGI app called from inside a span of the request: traced once, by the outer layer
            return traced(inner)(env, start_response)

    chunks, _ = serve(traced(app))
    assert chunks == [b"inner"]
    ((_, request), (_, in_child), (_, in_inner)) = seen
    assert isinstance(request, _common.Span) and in_child is request and in_inner is request
    assert sorted(s["name"] for s in captured.drain()) == ["GET", "middleware"]
    with _native.span("outside"):
        assert wsgi.current_request() is None
    captured.drain()


def test_the_request_object_is_released_when_the_span_ends_without_the_gc(
    captured: Captured,
) -> None:
    seen: list[Any] = []

    def app(env: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        seen.append(wsgi.current_request())
        start_response("200 OK", [])
        return [b"x"]

    gc.collect()
    gc.disable()
    try:
        serve(traced(app))
        request = seen.pop()
        # Only `request` and getrefcount's argument: the ended span let go of it, no cycle left.
        assert sys.getrefcount(request) == 2
        del request
        assert gc.collect() == 0
    finally:
        gc.enable()
    assert len(captured.drain()) == 1


def test_incoming_traceparent_is_continued(captured: Captured) -> None:
    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

    def app(env: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response("200 OK", [])
        return []

    serve(traced(app), environ(HTTP_TRACEPARENT=parent))
    (root,) = captured.drain()
    assert root["trace_id"] == "0af7651916cd43dd8448eb211c80319c"
    assert root["parent_span_id"] == "b7ad6b7169203331"


def test_an_exception_is_recorded_raised_unchanged_and_the_span_ends(captured: Captured) -> None:
    class Boom(Exception):
        pass

    boom = Boom("no")

    def app(env: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        raise boom

    with pytest.raises(Boom) as info:
        traced(app)(environ(), Server().start_response)
    assert info.value is boom
    assert wsgi.current_request() is None and _native.current_span() is None
    (root,) = captured.drain()
    assert root["status_code"] == "error"
    assert root["attributes"]["http.response.status_code"] == 500
    assert root["attributes"]["error.type"].endswith("<locals>.Boom")
    assert any(e["name"] == "exception" for e in root["events"])


def test_a_5xx_records_the_pending_exception_of_the_framework(captured: Captured) -> None:
    def app(env: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        wsgi.current_request().pending_exc = KeyError("lost")  # Flask's handler did this
        start_response("500 INTERNAL SERVER ERROR", [])
        return [b"sorry"]

    assert serve(traced(app))[0] == [b"sorry"]
    (root,) = captured.drain()
    assert root["status_code"] == "error" and root["attributes"]["error.type"] == "KeyError"


def test_a_streamed_body_runs_under_the_span_and_ends_it_at_close(captured: Captured) -> None:
    def app(env: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        start_response("200 OK", [])
        for chunk in (b"a", b"b"):
            with _native.span("chunk"):
                pass
            yield chunk

    chunks, _ = serve(traced(app))
    assert chunks == [b"a", b"b"]
    spans = captured.drain()
    root = next(s for s in spans if s["name"] == "GET")
    chunk_spans = [s for s in spans if s["name"] == "chunk"]
    assert len(chunk_spans) == 2
    assert all(s["parent_span_id"] == root["span_id"] for s in chunk_spans)


def test_a_streamed_body_keeps_its_context_between_chunks_and_out_of_the_servers(
    captured: Captured,
) -> None:
    var: contextvars.ContextVar[str] = contextvars.ContextVar("app_state", default="unset")
    seen: list[tuple[str, Any]] = []

    def app(env: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        start_response("200 OK", [])
        var.set("set by the first chunk")
        yield b"a"
        seen.append((var.get(), wsgi.current_request()))
        yield b"b"

    server_token = var.set("the server's")
    body = traced(app)(environ(), lambda *a: None)
    assert next(body) == b"a"
    # Between chunks the server runs in its own context: the app's changes and the span are not
    # visible there, and the app sees its own changes at the next chunk.
    assert var.get() == "the server's" and _native.current_span() is None
    assert next(body) == b"b"
    body.close()
    var.reset(server_token)
    ((value, request),) = seen
    assert value == "set by the first chunk" and isinstance(request, _common.Span)
    assert _native.current_span() is None and wsgi.current_request() is None
    assert [s["name"] for s in captured.drain()] == ["GET"]


def test_a_file_wrapper_response_is_returned_as_is(captured: Captured) -> None:
    class FileWrapper:
        def __init__(self, f: Any) -> None:
            self.f = f

        def __iter__(self) -> Iterator[bytes]:
            return iter([self.f.read()])

    def app(env: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        start_response("200 OK", [])
        return env["wsgi.file_wrapper"](io.BytesIO(b"data"))

    def server_app(env: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return app(env, start_response)

    result = traced(server_app)(environ(**{"wsgi.file_wrapper": FileWrapper}), lambda *a: None)
    assert type(result) is FileWrapper  # the server keeps its sendfile fast path
    assert len(captured.drain()) == 1  # and the span ended with the call


def test_a_nested_layer_adds_no_second_span(captured: Captured) -> None:
    def app(env: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response("200 OK", [])
        return [b"x"]

    assert serve(traced(traced(app)))[0] == [b"x"]
    assert len(captured.drain()) == 1


def test_wrap_app_and_call_use_the_native_path(captured: Captured, monkeypatch: Any) -> None:
    monkeypatch.setattr(_common, "_native_module", _native)

    def app(env: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response("200 OK", [])
        return [b"x"]

    wrapped = wsgi.wrap_app(app, "test")
    assert type(wrapped) is not type(app) and wrapped.__wrapped__ is app
    assert serve(wrapped)[0] == [b"x"]
    server = Server()
    assert wsgi.call(app, environ(), server.start_response, "test") == [b"x"]
    assert len(captured.drain()) == 2


def test_with_the_agent_off_the_app_is_returned_untouched(monkeypatch: Any) -> None:
    monkeypatch.setattr(_common, "_native_module", False)

    def app(env: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        return [b"x"]

    assert wsgi.wrap_app(app) is app
    assert wsgi.call(app, environ(), lambda *a: None) == [b"x"]


def test_other_call_shapes_reach_the_app_unchanged(captured: Captured) -> None:
    def app(*args: Any, **kwargs: Any) -> Any:
        return (args, kwargs)

    assert traced(app)(1, 2, 3) == ((1, 2, 3), {})
    by_keyword = {"environ": {}, "start_response": None}
    assert traced(app)(**by_keyword) == ((), by_keyword)
    assert captured.drain() == []
    with pytest.raises(TypeError):
        _native.wsgi_app(app, "not a type", wsgi.set_status, wsgi._fail)


def test_no_references_are_leaked(captured: Captured) -> None:
    result = [b"a"]
    env = environ()

    def app(e: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response("200 OK", [])
        return result

    def failing(e: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        raise ValueError("x")

    def streamed(e: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        start_response("200 OK", [])
        yield b"s"

    ok, bad, gen = traced(app), traced(failing), traced(streamed)

    def cycle() -> None:
        assert ok(env, lambda *a: None) is result
        with pytest.raises(ValueError):
            bad(env, lambda *a: None)
        body = gen(env, lambda *a: None)
        assert list(body) == [b"s"]
        body.close()

    cycle()
    gc.collect()
    before = [sys.getrefcount(o) for o in (result, env, app, failing, _common.Span)]
    for _ in range(200):
        cycle()
    gc.collect()
    assert [sys.getrefcount(o) for o in (result, env, app, failing, _common.Span)] == before
    assert len(captured.drain()) == 3 * 201


@pytest.mark.parametrize("slotted", [True, False])
def test_the_request_object_is_filled_whatever_its_class_stores(
    captured: Captured, slotted: bool
) -> None:
    """new_owner writes __slots__ directly and falls back to setattr for anything else."""

    class Slotted:
        __slots__ = ("native", "_token", "status_code", "pending_exc", "_method")

        @property
        def method(self) -> str:  # not a plain slot: set through setattr
            return self._method

        @method.setter
        def method(self, value: str) -> None:
            self._method = value

    class Plain:  # a __dict__: every attribute through setattr
        pass

    seen: list[Any] = []

    def app(env: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        seen.append(wsgi.current_request())
        start_response("200 OK", [])
        return []

    owner_type = Slotted if slotted else Plain
    serve(_native.wsgi_app(app, owner_type, wsgi.set_status, wsgi._fail))
    (request,) = seen
    assert type(request) is owner_type and request.method == "GET"
    assert request.status_code == 200 and request.pending_exc is None and request._token is None
    assert request.native.name == "GET"
    assert len(captured.drain()) == 1
