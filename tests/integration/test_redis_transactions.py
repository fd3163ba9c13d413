"""redis WATCH/MULTI transactions against a real redis-server: the commands a pipeline runs
immediately while watching (WATCH, reads) are CLIENT spans like any command, EXEC is the MULTI
span, and a transaction lost to a concurrent write fails its span with WatchError."""

from __future__ import annotations

import asyncio
from typing import Any, Iterator

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


def _credit(client: redis.Redis, key: str, amount: int, meddle: bool = False) -> list[Any]:
    """Optimistic read-modify-write: WATCH, GET, MULTI, SET + INCR, EXEC."""
    with client.pipeline() as pipe:
        pipe.watch(key)
        balance = int(pipe.get(key) or 0)
        if meddle:
            redis.Redis(port=client.connection_pool.connection_kwargs["port"]).set(key, 0)
        pipe.multi()
        pipe.set(key, balance + amount)
        pipe.incr("ops")
        return pipe.execute()


def test_watch_multi_exec(patched: None, capture: Capture, redis_server: Redis) -> None:
    client = redis.Redis(port=redis_server.port)
    client.set("balance", 40)
    capture.drain()
    with api.span("job"):
        result = _credit(client, "balance", 2)
    assert result == [True, 1]
    spans = capture.wait(4)
    assert tree(spans) == [("GET", "job"), ("MULTI", "job"), ("WATCH", "job"), ("job", None)]
    watch = capture.one("WATCH", spans)
    assert watch.kind == "client" and watch.attributes["db.query.text"] == "WATCH"
    assert watch.attributes["server.port"] == redis_server.port
    multi = capture.one("MULTI", spans)
    assert multi.attributes["db.operation.name"] == "MULTI"
    assert multi.attributes["db.operation.batch.size"] == 2
    assert multi.attributes["db.query.text"] == "SET\nINCRBY"
    assert multi.status == "unset"
    assert client.get("balance") == b"42"


def test_lost_race_fails_with_watch_error(
    patched: None, capture: Capture, redis_server: Redis
) -> None:
    client = redis.Redis(port=redis_server.port)
    client.set("balance", 40)
    capture.drain()
    with api.span("job"):
        with pytest.raises(redis.WatchError):
            _credit(client, "balance", 2, meddle=True)
    spans = capture.wait(5)
    assert tree(spans) == [
        ("GET", "job"),
        ("MULTI", "job"),
        ("SET", "job"),  # the meddling client's write, on its own connection
        ("WATCH", "job"),
        ("job", None),
    ]
    multi = capture.one("MULTI", spans)
    assert multi.status == "error" and multi.attributes["error.type"] == "WatchError"
    assert client.get("balance") == b"0"


def test_transaction_helper_retries(patched: None, capture: Capture, redis_server: Redis) -> None:
    client = redis.Redis(port=redis_server.port)
    client.set("stock", 5)
    meddler = redis.Redis(port=redis_server.port)
    attempts = []

    def take_one(pipe: Any) -> None:
        attempts.append(int(pipe.get("stock")))
        if len(attempts) == 1:
            meddler.set("stock", 9)  # the first attempt loses the race
        pipe.multi()
        pipe.decr("stock")

    capture.drain()
    with api.span("job"):
        assert client.transaction(take_one, "stock") == [8]
    assert attempts == [5, 9]
    spans = capture.wait(8)
    assert tree(spans) == [
        ("GET", "job"),
        ("GET", "job"),
        ("MULTI", "job"),
        ("MULTI", "job"),
        ("SET", "job"),
        ("WATCH", "job"),
        ("WATCH", "job"),
        ("job", None),
    ]
    lost, won = sorted((s for s in spans if s.name == "MULTI"), key=lambda s: s.status != "error")
    assert lost.status == "error" and lost.attributes["error.type"] == "WatchError"
    assert won.status == "unset" and won.attributes["db.query.text"] == "DECRBY"


def test_asyncio_watch_multi_exec(patched: None, capture: Capture, redis_server: Redis) -> None:
    async def main() -> list[Any]:
        client = redis.asyncio.Redis(port=redis_server.port)
        try:
            await client.set("balance", 40)
            capture.drain()
            with api.span("job"):
                async with client.pipeline() as pipe:
                    await pipe.watch("balance")
                    balance = int(await pipe.get("balance"))
                    pipe.multi()
                    pipe.set("balance", balance + 2).incr("ops")
                    return list(await pipe.execute())
        finally:
            await client.aclose()

    assert asyncio.run(main())[0] is True
    spans = capture.wait(4)
    assert tree(spans) == [("GET", "job"), ("MULTI", "job"), ("WATCH", "job"), ("job", None)]
    multi = capture.one("MULTI", spans)
    assert multi.attributes["db.query.text"] == "SET\nINCRBY"


def test_transparent(redis_server: Redis) -> None:
    def scenario() -> list[Any]:
        client = redis.Redis(port=redis_server.port)
        client.set("balance", 40)
        client.delete("ops")
        out: list[Any] = [_credit(client, "balance", 2)]
        try:
            _credit(client, "balance", 2, meddle=True)
        except redis.WatchError as e:
            out.append(str(e))
        out.append(client.transaction(lambda p: p.multi() or p.incr("ops"), "ops"))
        return out

    plain = scenario()
    redis_integration.patch()
    try:
        traced = scenario()
    finally:
        redis_integration.unpatch()
    assert traced == plain
