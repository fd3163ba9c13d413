"""psycopg (3) integration against a real PostgreSQL: sync and async cursors, errors."""

from __future__ import annotations

import asyncio
from typing import Iterator

import psycopg
import pytest
from services import Postgres
from spans import Capture, tree

from pyrometer import api
from pyrometer.integrations import psycopg as psycopg_integration

pytestmark = pytest.mark.usefixtures("clean_integrations")


@pytest.fixture
def patched() -> Iterator[None]:
    psycopg_integration.patch()
    try:
        yield
    finally:
        psycopg_integration.unpatch()


def test_sync_statements(patched: None, capture: Capture, postgres: Postgres) -> None:
    with psycopg.connect(postgres.dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS items")
        conn.execute("CREATE TABLE items (id int, name text)")
        capture.drain()
        with api.span("job"):
            with conn.cursor() as cur:
                cur.executemany("INSERT INTO items VALUES (%s, %s)", [(1, "a"), (2, "b")])
                cur.execute("SELECT name FROM items WHERE id = %s AND name <> 'zz'", (2,))
                assert cur.fetchall() == [("b",)]
            with pytest.raises(psycopg.errors.UndefinedTable):
                conn.execute("SELECT * FROM nope")
    spans = capture.wait(4)
    assert tree(spans) == [
        ("INSERT items", "job"),
        ("SELECT items", "job"),
        ("SELECT nope", "job"),
        ("job", None),
    ]
    select = capture.one("SELECT items", spans)
    a = select.attributes
    assert select.kind == "client"
    assert a["db.system.name"] == "postgresql"
    assert a["server.address"] == "127.0.0.1" and a["server.port"] == postgres.port
    assert a["db.namespace"] == "postgres"
    assert "'zz'" not in a["db.query.text"]
    failed = capture.one("SELECT nope", spans)
    assert failed.status == "error" and failed.attributes["error.type"] == "UndefinedTable"


def test_async_statements(patched: None, capture: Capture, postgres: Postgres) -> None:
    async def main() -> object:
        async with await psycopg.AsyncConnection.connect(postgres.dsn) as conn:
            with api.span("job"):
                cur = await conn.execute("SELECT 1 + %s", (1,))
                return await cur.fetchone()

    assert asyncio.run(main()) == (2,)
    spans = capture.wait(2)
    assert tree(spans) == [("SELECT", "job"), ("job", None)]


def test_transparent(postgres: Postgres, capture: Capture) -> None:
    def scenario() -> list[object]:
        with psycopg.connect(postgres.dsn) as conn:
            out: list[object] = [conn.execute("SELECT %s::int * 2", (21,)).fetchone()]
            try:
                conn.execute("SELEC 1")
            except psycopg.Error as e:
                out.append((type(e), e.sqlstate))
            return out

    plain = scenario()
    psycopg_integration.patch()
    try:
        traced = scenario()
    finally:
        psycopg_integration.unpatch()
    assert traced == plain
    assert "execute" in psycopg.Cursor.__dict__ and not psycopg_integration._wrap.is_wrapped(
        psycopg.Cursor, "execute"
    )
