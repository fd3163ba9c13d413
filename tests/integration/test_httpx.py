"""httpx integration: sync and async clients, traceparent out, errors, transparency."""

from __future__ import annotations

import asyncio
from typing import Iterator

import httpx
import pytest
from http_client_checks import check_call, check_error_status, check_refused
from services import free_port
from spans import Capture

from pyrometer import api
from pyrometer.integrations import httpx as httpx_integration

pytestmark = pytest.mark.usefixtures("clean_integrations")


@pytest.fixture
def patched() -> Iterator[None]:
    httpx_integration.patch()
    try:
        yield
    finally:
        httpx_integration.unpatch()


def test_sync_get(patched: None, capture: Capture, echo_server: str) -> None:
    with api.span("job"):
        echoed = httpx.get(echo_server + "/echo").json()
    check_call(capture, echoed, echo_server, "/echo")


def test_async_get(patched: None, capture: Capture, echo_server: str) -> None:
    async def main() -> dict:
        async with httpx.AsyncClient() as client:
            with api.span("job"):
                return (await client.get(echo_server + "/echo")).json()

    check_call(capture, asyncio.run(main()), echo_server, "/echo")


def test_error_status(patched: None, capture: Capture, echo_server: str) -> None:
    with api.span("job"):
        assert httpx.get(echo_server + "/status/503").status_code == 503
    check_error_status(capture)


def test_connection_refused(patched: None, capture: Capture) -> None:
    with api.span("job"):
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{free_port()}/")
    check_refused(capture, "ConnectError")


def test_transparent(echo_server: str, capture: Capture) -> None:
    def scenario() -> list[object]:
        r = httpx.get(echo_server + "/status/404")
        return [r.status_code, r.text, r.headers["content-type"]]

    plain = scenario()
    httpx_integration.patch()
    try:
        traced = scenario()
    finally:
        httpx_integration.unpatch()
    assert traced == plain
