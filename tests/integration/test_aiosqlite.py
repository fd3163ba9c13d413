"""aiosqlite runs sqlite3 in a worker thread per connection: the statement spans (from the sqlite3
integration) must be children of the awaiting task's span, one trace per task."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Iterator

import aiosqlite
import pytest
from spans import Capture, tree

from pyrometer import api
from pyrometer.integrations import aiosqlite as aiosqlite_integration
from pyrometer.integrations import sqlite3 as sqlite_integration

pytestmark = pytest.mark.usefixtures("clean_integrations")


@pytest.fixture
def patched() -> Iterator[None]:
    sqlite_integration.patch()
    aiosqlite_integration.patch()
    try:
        yield
    finally:
        aiosqlite_integration.unpatch()
        sqlite_integration.unpatch()


async def _scenario(db: Path, names: tuple[str, str]) -> list[object]:
    async with aiosqlite.connect(db) as conn:
        await conn.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER, name TEXT)")

        async def task(name: str, i: int) -> object:
            with api.span(name):
                await conn.execute("INSERT INTO t VALUES (?, ?)", (i, name))
                async with conn.execute("SELECT name FROM t WHERE id = ?", (i,)) as cur:
                    return (await cur.fetchone())[0]

        out: list[object] = list(await asyncio.gather(task(names[0], 1), task(names[1], 2)))
        try:
            await conn.execute("SELECT * FROM missing")
        except aiosqlite.OperationalError as e:
            out.append(str(e))
        return out


def test_statements_are_children_of_the_awaiting_task(
    patched: None, capture: Capture, tmp_path: Path
) -> None:
    result = asyncio.run(_scenario(tmp_path / "a.db", ("job-a", "job-b")))
    assert result == ["job-a", "job-b", "no such table: missing"]
    spans = capture.wait(8)
    # CREATE and the failing SELECT ran outside any span: roots of their own traces
    assert tree(spans) == [
        ("CREATE t", None),
        ("INSERT t", "job-a"),
        ("INSERT t", "job-b"),
        ("SELECT missing", None),
        ("SELECT t", "job-a"),
        ("SELECT t", "job-b"),
        ("job-a", None),
        ("job-b", None),
    ]
    for s in spans:
        if s.parent_id is not None:
            parent = next(p for p in spans if p.span_id == s.parent_id)
            assert parent.trace_id == s.trace_id
    failed = capture.one("SELECT missing", spans)
    assert failed.status == "error" and failed.attributes["db.system.name"] == "sqlite"


def test_transparent(capture: Capture, tmp_path: Path) -> None:
    plain = asyncio.run(_scenario(tmp_path / "plain.db", ("a", "b")))
    capture.drain()  # the two task spans of the plain run
    sqlite_integration.patch()
    aiosqlite_integration.patch()
    try:
        traced = asyncio.run(_scenario(tmp_path / "traced.db", ("a", "b")))
    finally:
        aiosqlite_integration.unpatch()
        sqlite_integration.unpatch()
    assert traced == plain
    assert len(capture.drain()) == 8
