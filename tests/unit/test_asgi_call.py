"""_native.trace_asgi: a traced ASGI http request driven by a C awaitable. The app's messages,
return value and exceptions pass unchanged; the span gets status, route and errors."""

from __future__ import annotations

import asyncio
import contextvars
import gc
from types import SimpleNamespace
from typing import Any

import pytest
import tracer_fixtures
from tracer_fixtures import Captured

from pyrometer import _native

captured = tracer_fixtures.captured  # the fixture, used by name

pytestmark = pytest.mark.skipif(
    not hasattr(_native, "trace_asgi"), reason="trace_asgi needs CPython >= 3.10"
)


def scope(**over: Any) -> dict[str, Any]:
    s: dict[str, Any] = {"type": "http", "method": "GET", "path": "/items/7", "root_path": ""}
    s.update(over)
    return s


class Server:
    """The server side of one request: what the app sent, and a receive that says 'no body'."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(self, message: dict[str, Any]) -> None:
        await asyncio.sleep(0)  # a real suspension inside the traced awaitable
        self.sent.append(message)


errors: list[tuple[Any, BaseException]] = []


def on_error(span: Any, exc: BaseException) -> None:
    errors.append((span, exc))
    span.record_exception(exc)
    span.set_attribute("error.type", type(exc).__qualname__)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def ok_app(scope: dict[str, Any], receive: Any, send: Any) -> str:
    await receive()
    scope["route"] = SimpleNamespace(path="/items/{id}")
    await send({"type": "http.response.start", "status": 201, "headers": []})
    await send({"type": "http.response.body", "body": b"hi"})
    return "returned"


def test_request_traced_messages_and_return_value_pass(captured: Captured) -> None:
    server = Server()

    async def main() -> Any:
        assert _native.current_span() is None
        result = await _native.trace_asgi(
            ok_app, None, scope(), server.receive, server.send, on_error
        )
        assert _native.current_span() is None  # detached again
        return result

    assert run(main()) == "returned"
    assert [m["type"] for m in server.sent] == ["http.response.start", "http.response.body"]
    (span,) = captured.drain()
    assert span["name"] == "GET /items/{id}" and span["kind"] == "server"
    assert span["attributes"]["http.response.status_code"] == 201
    assert span["attributes"]["http.route"] == "/items/{id}"
    assert span["status_code"] == "unset"


def test_owner_is_passed_first() -> None:
    class App:
        async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
            return self

    app = App()
    server = Server()
    out = run(
        _native.trace_asgi(type(app).__call__, app, scope(), server.receive, server.send, on_error)
    )
    assert out is app


def test_exception_is_recorded_and_re_raised_with_500(captured: Captured) -> None:
    errors.clear()
    server = Server()

    async def boom(scope: Any, receive: Any, send: Any) -> None:
        await asyncio.sleep(0)
        raise KeyError("missing")

    with pytest.raises(KeyError, match="missing"):
        run(_native.trace_asgi(boom, None, scope(), server.receive, server.send, on_error))
    (span,) = captured.drain()
    assert span["status_code"] == "error"
    assert span["attributes"]["http.response.status_code"] == 500
    assert span["attributes"]["error.type"] == "KeyError"
    assert [type(e) for _, e in errors] == [KeyError]
    assert span["events"][0]["name"] == "exception"


def test_exception_after_response_started_keeps_its_status(captured: Captured) -> None:
    server = Server()

    async def late(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise RuntimeError("after start")

    with pytest.raises(RuntimeError):
        run(_native.trace_asgi(late, None, scope(), server.receive, server.send, on_error))
    (span,) = captured.drain()
    assert span["attributes"]["http.response.status_code"] == 200
    assert span["attributes"]["error.type"] == "RuntimeError"


def test_synchronous_raise_and_non_awaitable_surface_when_awaited(captured: Captured) -> None:
    server = Server()

    def raises_now(scope: Any, receive: Any, send: Any) -> None:
        raise ValueError("sync")

    call = _native.trace_asgi(raises_now, None, scope(), server.receive, server.send, on_error)
    with pytest.raises(ValueError):
        run(call)
    with pytest.raises(TypeError, match="non-awaitable"):
        run(_native.trace_asgi(lambda *a: 42, None, scope(), server.receive, server.send, on_error))
    spans = captured.drain()
    assert len(spans) == 2 and all(s["status_code"] == "error" for s in spans)


def test_cancellation_is_thrown_in_and_ends_the_span(captured: Captured) -> None:
    server = Server()
    started = asyncio.Event()

    async def slow(scope: Any, receive: Any, send: Any) -> None:
        started.set()
        await asyncio.sleep(60)

    async def main() -> None:
        task = asyncio.ensure_future(
            _native.trace_asgi(slow, None, scope(), server.receive, server.send, on_error)
        )
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(main())
    (span,) = captured.drain()
    assert span["attributes"]["error.type"] == "CancelledError"


def test_send_throw_close_protocol(captured: Captured) -> None:
    server = Server()

    async def app(scope: Any, receive: Any, send: Any) -> str:
        try:
            got = await asyncio.sleep(0, result="x")
            return f"done {got}"
        except ZeroDivisionError:
            return "caught"

    call = _native.trace_asgi(app, None, scope(), server.receive, server.send, on_error)
    assert call.__await__() is call and iter(call) is call
    assert call.send(None) is None  # sleep(0) yields None to the loop
    with pytest.raises(StopIteration) as stop:
        call.throw(ZeroDivisionError())
    assert stop.value.value == "caught"
    with pytest.raises(RuntimeError, match="already awaited"):
        call.send(None)
    assert call.close() is None

    closed = _native.trace_asgi(app, None, scope(), server.receive, server.send, on_error)
    closed.send(None)
    closed.close()
    spans = captured.drain()
    assert len(spans) == 2
    assert all("http.response.status_code" not in s["attributes"] for s in spans)


def test_started_in_the_awaiting_context_and_dropped_unawaited(captured: Captured) -> None:
    server = Server()
    # Made in one context, awaited in a task (another context): the span is current in the
    # task while the app runs, and never leaks into the context that made the awaitable.
    seen: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(_native.current_span())

    call = _native.trace_asgi(app, None, scope(), server.receive, server.send, on_error)
    assert _native.current_span() is None
    run(call)
    assert _native.current_span() is None and seen[0] is not None
    # Never awaited: the app is never called and no span is made.
    _native.trace_asgi(ok_app, None, scope(), server.receive, server.send, on_error)
    gc.collect()
    assert [s["name"] for s in captured.drain()] == ["GET"]


def test_abandoned_while_running_still_ends_the_span(captured: Captured) -> None:
    server = Server()

    class Pause:
        def __await__(self) -> Any:
            yield "paused"

    async def waits(scope: Any, receive: Any, send: Any) -> None:
        await Pause()

    call = _native.trace_asgi(waits, None, scope(), server.receive, server.send, on_error)
    # Driven in a context of its own, as a task would: abandoning it leaves the span current
    # in that (dead) context only.
    assert contextvars.copy_context().run(call.send, None) == "paused"  # running, suspended
    del call
    gc.collect()
    (span,) = captured.drain()
    assert span["name"] == "GET" and "http.response.status_code" not in span["attributes"]


def test_lifespan_and_nested_requests_are_not_traced(captured: Captured) -> None:
    server = Server()

    async def main() -> None:
        # not http: the app's own coroutine, no span
        lifespan = _native.trace_asgi(ok_app, None, {"type": "lifespan"}, server.receive,
                                      server.send, on_error)  # fmt: skip
        assert asyncio.iscoroutine(lifespan)
        await lifespan

        # nested under a request span (a mounted app): one span, the outer one
        async def outer(scope: Any, receive: Any, send: Any) -> None:
            await _native.trace_asgi(ok_app, None, scope, receive, send, on_error)

        await _native.trace_asgi(outer, None, scope(), server.receive, server.send, on_error)

    run(main())
    spans = captured.drain()
    assert [s["name"] for s in spans] == ["GET /items/{id}"], spans


def test_mounted_route_gets_the_mount_prefix(captured: Captured) -> None:
    server = Server()

    async def mounted(scope: dict[str, Any], receive: Any, send: Any) -> None:
        scope["root_path"] = "/api/v2"
        scope["route"] = SimpleNamespace(path="/users/{id}")
        await send({"type": "http.response.start", "status": 200, "headers": []})

    run(_native.trace_asgi(mounted, None, scope(root_path="/api"), server.receive, server.send,
                           on_error))  # fmt: skip
    (span,) = captured.drain()
    assert span["attributes"]["http.route"] == "/v2/users/{id}"


def test_bad_status_counted_and_server_send_errors_pass(captured: Captured) -> None:
    before = _native._tracer_stats()["internal_errors"]

    async def failing_send(message: Any) -> None:
        raise OSError("peer gone")

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": "200"})

    with pytest.raises(OSError, match="peer gone"):
        run(_native.trace_asgi(app, None, scope(), Server().receive, failing_send, on_error))
    assert _native._tracer_stats()["internal_errors"] == before + 1
    (span,) = captured.drain()
    assert span["attributes"]["error.type"] == "OSError"


def test_generic_layer_traces_dict_scopes_natively_and_other_mappings_in_python(
    captured: Captured,
) -> None:
    from collections import UserDict

    from pyrometer.integrations import asgi

    server = Server()
    assert type(asgi.call(ok_app, scope(), server.receive, server.send)).__name__ == "AsgiCall"
    run(asgi.call(ok_app, scope(), server.receive, server.send))
    run(asgi.call(ok_app, UserDict(scope()), server.receive, server.send))
    spans = captured.drain()
    assert [s["name"] for s in spans] == ["GET /items/{id}", "GET /items/{id}"]
    assert all(s["attributes"]["http.response.status_code"] == 201 for s in spans)


def test_no_references_are_leaked(captured: Captured) -> None:
    import sys

    server = Server()
    receive, send = server.receive, server.send

    async def boom(scope: Any, receive: Any, send: Any) -> None:
        raise KeyError("x")

    async def many() -> None:
        for i in range(200):
            app = boom if i % 4 == 0 else ok_app
            try:
                await _native.trace_asgi(app, None, scope(), receive, send, on_error)
            except KeyError:
                pass

    run(many())  # warm-up: interned names, caches
    errors.clear()
    gc.collect()
    before = [sys.getrefcount(o) for o in (ok_app, boom, receive, send, on_error)]
    run(many())
    errors.clear()
    gc.collect()
    assert [sys.getrefcount(o) for o in (ok_app, boom, receive, send, on_error)] == before
    assert len(captured.drain()) == 400
