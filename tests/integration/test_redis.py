"""redis integration against a real redis-server: sync, asyncio, pipelines, errors."""

from __future__ import annotations

import asyncio
from typing import Iterator

import pytest
import redis
import redis.asyncio
from services import Redis
from spans import Capture, tree

from pyrometer import api
from pyrometer.integrations import redis as redis_integration

pytestmark = pytest.mark.usefixtures("clean_integrations")


@pytest.fixture
def patched() -> Iterator[None]:
    redis_integration.patch()
    try:
        yield
    finally:
        redis_integration.unpatch()


def test_commands_and_pipeline(patched: None, capture: Capture, redis_server: Redis) -> None:
    client = redis.Redis(port=redis_server.port)
    with api.span("job"):
        client.set("user:1", "secret-value")
        assert client.get("user:1") == b"secret-value"
        pipe = client.pipeline()
        pipe.incr("hits").incr("hits").get("user:1")
        assert pipe.execute()[-1] == b"secret-value"
        with pytest.raises(redis.ResponseError):
            client.execute_command("NOSUCHCOMMAND", "x")
    spans = capture.wait(5)
    assert tree(spans) == [
        ("GET", "job"),
        ("MULTI", "job"),
        ("NOSUCHCOMMAND", "job"),
        ("SET", "job"),
        ("job", None),
    ]
    set_span = capture.one("SET", spans)
    a = set_span.attributes
    assert set_span.kind == "client"
    assert a["db.system.name"] == "redis" and a["db.operation.name"] == "SET"
    assert a["db.query.text"] == "SET"
    assert a["server.address"] == "localhost" and a["server.port"] == redis_server.port
    assert all("secret" not in str(v) for s in spans for v in s.attributes.values())
    multi = capture.one("MULTI", spans)
    assert multi.attributes["db.operation.batch.size"] == 3
    assert multi.attributes["db.query.text"] == "INCRBY\nINCRBY\nGET"  # redis-py sends INCRBY
    failed = capture.one("NOSUCHCOMMAND", spans)
    assert failed.status == "error" and failed.attributes["error.type"] == "ResponseError"


def test_asyncio_client(patched: None, capture: Capture, redis_server: Redis) -> None:
    async def main() -> object:
        client = redis.asyncio.Redis(port=redis_server.port)
        try:
            with api.span("job"):
                await client.set("k", "v")
                async with client.pipeline(transaction=False) as pipe:
                    pipe.get("k").get("k")
                    return await pipe.execute()
        finally:
            await client.aclose()

    assert asyncio.run(main()) == [b"v", b"v"]
    spans = capture.wait(3)
    assert tree(spans) == [("PIPELINE", "job"), ("SET", "job"), ("job", None)]


def test_transparent(redis_server: Redis, capture: Capture) -> None:
    def scenario() -> list[object]:
        client = redis.Redis(port=redis_server.port)
        client.delete("n")
        out: list[object] = [client.incr("n"), client.pipeline().incr("n").get("n").execute()]
        try:
            client.execute_command("BOGUS")
        except redis.ResponseError as e:
            out.append(str(e))
        return out

    plain = scenario()
    redis_integration.patch()
    try:
        traced = scenario()
    finally:
        redis_integration.unpatch()
    assert traced == plain
