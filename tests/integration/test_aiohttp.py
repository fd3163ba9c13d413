"""aiohttp: client and server in one process over a real loopback socket — one trace."""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable, Iterator

import aiohttp
import pytest
from aiohttp import web
from services import free_port
from spans import Capture, tree

from pyrometer import api
from pyrometer.integrations import aiohttp as aiohttp_integration

pytestmark = pytest.mark.usefixtures("clean_integrations")


@pytest.fixture
def patched() -> Iterator[None]:
    aiohttp_integration.patch()
    try:
        yield
    finally:
        aiohttp_integration.unpatch()


def make_app() -> web.Application:
    async def user(request: web.Request) -> web.Response:
        with api.span("load"):
            pass
        return web.json_response({"id": int(request.match_info["id"])})

    async def crash(request: web.Request) -> web.Response:
        attempts = 3
        raise LookupError(f"gone after {attempts}")

    async def missing(request: web.Request) -> web.Response:
        raise web.HTTPNotFound()

    app = web.Application()
    app.router.add_get("/users/{id}", user)
    app.router.add_get("/crash", crash)
    app.router.add_get("/missing", missing)
    return app


def serve(scenario: Callable[[str], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        runner = web.AppRunner(make_app())
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            return await scenario(f"http://127.0.0.1:{port}")
        finally:
            await runner.cleanup()

    return asyncio.run(main())


def test_client_to_server_is_one_trace(patched: None, capture: Capture) -> None:
    async def scenario(base: str) -> Any:
        async with aiohttp.ClientSession() as session:
            with api.span("job"):
                async with session.get(base + "/users/4") as r:
                    return await r.json()

    assert serve(scenario) == {"id": 4}
    spans = capture.wait(4)
    assert tree(spans) == [
        ("GET", "job"),
        ("GET /users/{id}", "GET"),
        ("job", None),
        ("load", "GET /users/{id}"),
    ]
    assert len({s.trace_id for s in spans}) == 1
    server = capture.one("GET /users/{id}", spans)
    assert server.kind == "server"
    assert server.attributes["http.route"] == "/users/{id}"
    assert server.attributes["http.response.status_code"] == 200
    assert server.attributes["client.address"] == "127.0.0.1"
    client = capture.one("GET", spans)
    assert client.kind == "client" and client.attributes["http.response.status_code"] == 200


def test_server_errors(patched: None, capture: Capture) -> None:
    async def scenario(base: str) -> Any:
        async with aiohttp.ClientSession() as session:
            statuses = []
            for path in ("/crash", "/missing"):
                async with session.get(base + path) as r:
                    statuses.append(r.status)
            return statuses

    assert serve(scenario) == [500, 404]
    spans = capture.wait(4)
    crash = capture.one("GET /crash", spans)
    assert crash.status == "error" and crash.attributes["error.type"] == "LookupError"
    assert [f for f in crash.frames() if f["in_app"]][-1]["locals"]["attempts"] == "3"
    missing = capture.one("GET /missing", spans)
    assert missing.status == "unset" and missing.attributes["http.response.status_code"] == 404


def test_transparent(capture: Capture) -> None:
    async def scenario(base: str) -> Any:
        async with aiohttp.ClientSession() as session:
            out = []
            for path in ("/users/1", "/crash", "/missing", "/nope"):
                async with session.get(base + path) as r:
                    out.append((r.status, await r.text(), r.headers.get("Content-Type")))
            return out

    plain = serve(scenario)
    aiohttp_integration.patch()
    try:
        traced = serve(scenario)
    finally:
        aiohttp_integration.unpatch()
    assert traced == plain
