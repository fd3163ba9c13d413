"""FastAPI/Starlette integration: a real FastAPI app served by uvicorn in-process."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, Iterator

import httpx
import pytest
import websockets.sync.client
from asgi_server import ThreadedUvicorn
from fastapi import BackgroundTasks, FastAPI, HTTPException, WebSocket
from fastapi.responses import JSONResponse
from spans import Capture, tree

from pyrometer import api
from pyrometer.integrations import fastapi as fastapi_integration
from pyrometer.integrations import starlette as starlette_integration

pytestmark = pytest.mark.usefixtures("clean_integrations")

REMOTE_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
REMOTE_PARENT = "00f067aa0ba902b7"
lifespan_events: list[str] = []


def make_app() -> Any:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        lifespan_events.append("startup")
        yield
        lifespan_events.append("shutdown")

    app = FastAPI(lifespan=lifespan)

    def send_email(to: str) -> None:
        with api.span("smtp"):
            pass

    @app.get("/items/{item_id}")
    async def item(item_id: int, tasks: BackgroundTasks) -> Any:
        tasks.add_task(send_email, "a@b")
        return {"id": item_id}

    @app.get("/sync")
    def sync_view() -> Any:
        with api.span("work"):
            return {"ok": True}

    @app.get("/crash")
    async def crash() -> Any:
        cart = ["apple"]
        raise KeyError(f"missing {cart[0]}")

    @app.get("/teapot")
    async def teapot() -> Any:
        raise HTTPException(status_code=418)

    @app.get("/unavailable")
    async def unavailable() -> Any:
        return JSONResponse({"down": True}, status_code=503)

    v2 = FastAPI()

    @v2.get("/orders/{order_id}")
    async def order(order_id: int) -> Any:
        return {"order": order_id}

    app.mount("/v2", v2)

    @app.websocket("/ws")
    async def ws(sock: WebSocket) -> None:
        await sock.accept()
        for _ in range(3):
            await sock.send_text("echo:" + await sock.receive_text())
        await sock.close()

    return app


@pytest.fixture
def served() -> Iterator[ThreadedUvicorn]:
    fastapi_integration.patch()
    server = ThreadedUvicorn(make_app())
    try:
        yield server
    finally:
        server.stop()
        fastapi_integration.unpatch()


def test_route_and_background_task(served: ThreadedUvicorn, capture: Capture) -> None:
    tp = f"00-{REMOTE_TRACE}-{REMOTE_PARENT}-01"
    r = httpx.get(served.base + "/items/5", headers={"traceparent": tp, "user-agent": "t/2"})
    assert r.json() == {"id": 5}
    spans = capture.wait(3)
    assert tree(spans) == [
        ("GET /items/{item_id}", "<remote>"),
        ("send_email", "GET /items/{item_id}"),
        ("smtp", "send_email"),
    ]
    server = capture.one("GET /items/{item_id}", spans)
    assert server.kind == "server" and server.status == "unset"
    assert server.trace_id == REMOTE_TRACE and server.parent_id == REMOTE_PARENT
    a = server.attributes
    assert a["http.route"] == "/items/{item_id}"
    assert a["http.request.method"] == "GET"
    assert a["http.response.status_code"] == 200
    assert a["url.path"] == "/items/5"
    assert a["server.address"] == "127.0.0.1" and a["server.port"] == served.port
    assert a["client.address"] == "127.0.0.1"
    assert a["user_agent.original"] == "t/2"
    assert capture.one("send_email", spans).kind == "internal"


def test_sync_endpoint_children(served: ThreadedUvicorn, capture: Capture) -> None:
    assert httpx.get(served.base + "/sync").json() == {"ok": True}
    assert tree(capture.wait(2)) == [("GET /sync", None), ("work", "GET /sync")]


def test_unhandled_exception(served: ThreadedUvicorn, capture: Capture) -> None:
    r = httpx.get(served.base + "/crash")
    assert r.status_code == 500 and r.text == "Internal Server Error"
    (span,) = capture.wait(1)
    assert span.name == "GET /crash" and span.status == "error"
    assert span.attributes["http.response.status_code"] == 500
    assert span.attributes["error.type"] == "KeyError"
    frame = [f for f in span.frames() if f["in_app"]][-1]
    assert frame["function"] == "crash" and frame["locals"]["cart"] == "['apple']"


def test_statuses(served: ThreadedUvicorn, capture: Capture) -> None:
    assert httpx.get(served.base + "/teapot").status_code == 418
    assert httpx.get(served.base + "/unavailable").status_code == 503
    assert httpx.get(served.base + "/nope").status_code == 404
    spans = {s.name: s for s in capture.wait(3)}
    assert set(spans) == {"GET /teapot", "GET /unavailable", "GET"}
    assert spans["GET /teapot"].status == "unset"
    assert spans["GET /unavailable"].status == "error"
    assert spans["GET /unavailable"].attributes["error.type"] == "503"
    assert spans["GET"].attributes["http.response.status_code"] == 404


def test_mounted_app_route_is_prefixed(served: ThreadedUvicorn, capture: Capture) -> None:
    assert httpx.get(served.base + "/v2/orders/9").json() == {"order": 9}
    (span,) = capture.wait(1)
    assert span.name == "GET /v2/orders/{order_id}"
    assert span.attributes["url.path"] == "/v2/orders/9"


def test_websocket_is_one_counted_span(served: ThreadedUvicorn, capture: Capture) -> None:
    with websockets.sync.client.connect(f"ws://127.0.0.1:{served.port}/ws") as ws:
        for i in range(3):
            ws.send(str(i))
            assert ws.recv() == f"echo:{i}"
    (span,) = capture.wait(1)
    assert span.name == "WEBSOCKET /ws" and span.kind == "server"
    assert span.attributes["websocket.messages.received"] == 3
    assert span.attributes["websocket.messages.sent"] == 3


def test_lifespan_passes_through(capture: Capture) -> None:
    lifespan_events.clear()
    fastapi_integration.patch()
    try:
        ThreadedUvicorn(make_app()).stop()
    finally:
        fastapi_integration.unpatch()
    assert lifespan_events == ["startup", "shutdown"]
    assert capture.drain() == []


def test_transparent(capture: Capture) -> None:
    async def scenario() -> list[object]:
        transport = httpx.ASGITransport(app=make_app(), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            out = []
            for path in ("/items/1", "/crash", "/teapot", "/unavailable", "/nope"):
                r = await client.get(path)
                out.append((r.status_code, r.text, sorted(r.headers.items())))
            return out

    plain = asyncio.run(scenario())
    starlette_integration.patch()
    try:
        traced = asyncio.run(scenario())
    finally:
        starlette_integration.unpatch()
    assert traced == plain
    assert len(capture.drain()) >= 5
