"""_native.asgi_method: a framework's ASGI entry (Starlette.__call__) as a method descriptor:
http requests traced natively with the instance as owner, everything else through the fallback,
and to servers' checks (iscoroutinefunction, signature, metadata) the async method it wraps."""

from __future__ import annotations

import asyncio
import inspect
from types import SimpleNamespace
from typing import Any

import pytest
import tracer_fixtures
from test_asgi_call import Server, on_error, run, scope
from tracer_fixtures import Captured

from pyrometer import _native

captured = tracer_fixtures.captured  # the fixture, used by name

pytestmark = pytest.mark.skipif(
    not hasattr(_native, "asgi_method"), reason="asgi_method needs CPython >= 3.10"
)


def make_app() -> tuple[type, list[tuple[Any, ...]]]:
    fallbacks: list[tuple[Any, ...]] = []

    class App:
        async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
            """The app's ASGI entry."""
            if scope["type"] != "http":
                return ("untraced", self)
            await receive()
            scope["route"] = SimpleNamespace(path="/items/{id}")
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})
            return self

    original = App.__call__

    def fallback(self: Any, scope: Any, receive: Any, send: Any) -> Any:
        fallbacks.append((self, scope["type"]))
        return original(self, scope, receive, send)

    App.__call__ = _native.asgi_method(original, on_error, fallback)  # type: ignore[method-assign]
    return App, fallbacks


def test_an_http_request_is_traced_with_the_instance_as_owner(captured: Captured) -> None:
    App, fallbacks = make_app()
    app, server = App(), Server()
    assert run(app(scope(), server.receive, server.send)) is app
    assert [m["type"] for m in server.sent] == ["http.response.start", "http.response.body"]
    (root,) = captured.drain()
    assert root["name"] == "GET /items/{id}" and root["kind"] == "server"
    assert root["attributes"]["http.response.status_code"] == 200
    assert fallbacks == []


def test_other_scopes_and_call_shapes_take_the_fallback(captured: Captured) -> None:
    App, fallbacks = make_app()
    app = App()
    assert run(app({"type": "lifespan"}, None, None)) == ("untraced", app)
    assert run(app({"type": "websocket"}, None, None)) == ("untraced", app)
    assert run(App.__call__(app, {"type": "lifespan"}, None, None)) == ("untraced", app)
    assert fallbacks == [(app, "lifespan"), (app, "websocket"), (app, "lifespan")]
    assert captured.drain() == []


def test_servers_see_the_async_method_it_wraps() -> None:
    App, _ = make_app()
    app = App()
    # uvicorn picks ASGI 3 by asyncio.iscoroutinefunction(app.__call__); others use inspect.
    assert asyncio.iscoroutinefunction(app.__call__) and inspect.iscoroutinefunction(app.__call__)
    assert inspect.iscoroutinefunction(App.__call__)
    assert list(inspect.signature(app.__call__).parameters) == ["scope", "receive", "send"]
    assert App.__call__.__doc__ == "The app's ASGI entry." and App.__call__.__name__ == "__call__"
    assert app.__call__.__self__ is app
    with pytest.raises(TypeError):
        _native.asgi_method(App.__call__, on_error, "not callable")
