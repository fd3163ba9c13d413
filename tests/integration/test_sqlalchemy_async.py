"""Async SQLAlchemy (create_async_engine): the core events fire on the sync engine inside
SQLAlchemy's greenlet bridge; statement spans must still be children of the awaiting task's span,
with no driver duplicate, for asyncpg and psycopg (async) against a real PostgreSQL, and
aiosqlite (whose sqlite3 calls run in a thread of its own)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa
from services import Postgres
from spans import Capture, tree
from sqlalchemy.ext.asyncio import create_async_engine

from pyrometer import api
from pyrometer.integrations import aiosqlite as aiosqlite_integration
from pyrometer.integrations import psycopg as psycopg_integration
from pyrometer.integrations import sqlalchemy as sqlalchemy_integration
from pyrometer.integrations import sqlite3 as sqlite_integration

pytestmark = pytest.mark.usefixtures("clean_integrations")

META = sa.MetaData()
ORDERS = sa.Table("orders", META, sa.Column("id", sa.Integer), sa.Column("note", sa.Text))


@pytest.fixture
def patched() -> Iterator[None]:
    # The drivers are patched too: SQLAlchemy's span must win, without a duplicate (aiosqlite
    # runs sqlite3 in its own thread: the suppression must reach it there).
    integrations = (psycopg_integration, sqlite_integration, aiosqlite_integration,
                    sqlalchemy_integration)  # fmt: skip
    for integration in integrations:
        integration.patch()
    try:
        yield
    finally:
        for integration in reversed(integrations):
            integration.unpatch()


@pytest.fixture(params=["asyncpg", "psycopg", "aiosqlite"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "aiosqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'orders.db'}"
    pg: Postgres = request.getfixturevalue("postgres")
    return pg.url.replace("postgresql://", f"postgresql+{request.param}://")


async def _setup(engine: sa.ext.asyncio.AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(META.drop_all)
        await conn.run_sync(META.create_all)


async def _order_task(engine: sa.ext.asyncio.AsyncEngine, name: str, order_id: int) -> str:
    with api.span(name):
        async with engine.begin() as conn:
            await conn.execute(ORDERS.insert(), [{"id": order_id, "note": name}])
            await asyncio.sleep(0.01)  # the other task runs its statements meanwhile
            rows = await conn.execute(sa.select(ORDERS.c.note).where(ORDERS.c.id == order_id))
            return str(rows.scalar_one())


def test_statement_spans_follow_the_awaiting_task(
    patched: None, capture: Capture, url: str
) -> None:
    async def main() -> list[str]:
        engine = create_async_engine(url)
        try:
            await _setup(engine)
            capture.drain()  # dialect start-up and DDL out of the way
            results = await asyncio.gather(
                _order_task(engine, "job-a", 1), _order_task(engine, "job-b", 2)
            )
            with api.span("job-c"):
                async with engine.connect() as conn:
                    with pytest.raises(sa.exc.DBAPIError):
                        await conn.execute(sa.text("SELECT * FROM missing_table WHERE id = 7"))
            return list(results)
        finally:
            await engine.dispose()

    assert asyncio.run(main()) == ["job-a", "job-b"]
    spans = capture.wait(8)
    assert tree(spans) == [
        ("INSERT orders", "job-a"),
        ("INSERT orders", "job-b"),
        ("SELECT missing_table", "job-c"),
        ("SELECT orders", "job-a"),
        ("SELECT orders", "job-b"),
        ("job-a", None),
        ("job-b", None),
        ("job-c", None),
    ]
    by_id = {s.span_id: s for s in spans}
    for s in spans:
        if s.kind == "client":
            assert by_id[s.parent_id].trace_id == s.trace_id
    system = "sqlite" if url.startswith("sqlite") else "postgresql"
    for s in spans:
        if s.kind == "client":
            assert s.attributes["db.system.name"] == system
    insert = [s for s in spans if s.name == "INSERT orders"][0]
    assert "job-" not in insert.attributes["db.query.text"]  # values never leave the process
    failed = capture.one("SELECT missing_table", spans)
    assert failed.status == "error" and "7" not in failed.attributes["db.query.text"]
    if system == "postgresql":
        assert failed.attributes["server.address"] == "127.0.0.1"
        assert failed.attributes["db.namespace"] == "postgres"


def test_transparent(capture: Capture, tmp_path: Path) -> None:
    async def scenario(url: str) -> list[object]:
        engine = create_async_engine(url)
        try:
            await _setup(engine)
            out: list[object] = [await _order_task(engine, "job", 1)]
            async with engine.connect() as conn:
                try:
                    await conn.execute(sa.text("SELECT * FROM missing_table"))
                except sa.exc.DBAPIError as e:
                    out.append(type(e.orig).__name__)
            return out
        finally:
            await engine.dispose()

    plain = asyncio.run(scenario(f"sqlite+aiosqlite:///{tmp_path / 'plain.db'}"))
    sqlalchemy_integration.patch()
    try:
        traced = asyncio.run(scenario(f"sqlite+aiosqlite:///{tmp_path / 'traced.db'}"))
    finally:
        sqlalchemy_integration.unpatch()
    assert traced == plain == ["job", "OperationalError"]
    assert {s.name for s in capture.drain()} >= {"INSERT orders", "SELECT orders"}
