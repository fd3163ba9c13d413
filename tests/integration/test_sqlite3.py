"""sqlite3 integration: statement spans under a parent, normalised text, errors, transparency."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Iterator

import pytest
from spans import Capture, tree

from pyrometer import api
from pyrometer.integrations import _common
from pyrometer.integrations import sqlite3 as sqlite_integration

pytestmark = pytest.mark.usefixtures("clean_integrations")


@pytest.fixture
def patched() -> Iterator[None]:
    sqlite_integration.patch()
    try:
        yield
    finally:
        sqlite_integration.unpatch()


def test_statements_are_client_spans_under_the_caller(
    patched: None, capture: Capture, tmp_path: Path
) -> None:
    db = str(tmp_path / "shop.db")
    with api.span("job"):
        conn = sqlite3.connect(db)
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        conn.executemany("INSERT INTO users (id, name) VALUES (?, ?)", [(1, "a"), (2, "b")])
        cur = conn.cursor()
        cur.execute("SELECT name FROM users WHERE id = 2 AND name = 'b'")
        assert cur.fetchall() == [("b",)]
        conn.executescript("DELETE FROM users; DELETE FROM users;")
        conn.close()
    spans = capture.wait(5)
    assert tree(spans) == [
        ("CREATE users", "job"),
        ("DELETE users", "job"),
        ("INSERT users", "job"),
        ("SELECT users", "job"),
        ("job", None),
    ]
    select = capture.one("SELECT users", spans)
    assert select.kind == "client"
    a = select.attributes
    assert a["db.system.name"] == "sqlite" and a["db.system"] == "sqlite"
    assert a["db.namespace"] == db
    assert a["db.operation.name"] == "SELECT" and a["db.collection.name"] == "users"
    assert "2" not in a["db.query.text"] and "'b'" not in a["db.query.text"]
    assert a["db.query.text"].startswith("SELECT name FROM users WHERE id = ?")
    assert len(a["db.query.fingerprint"]) == 16
    assert select.status == "unset"


def test_same_shape_same_fingerprint(patched: None, capture: Capture) -> None:
    with api.span("job"):
        conn = sqlite3.connect(":memory:")
        conn.execute("SELECT 1 WHERE 5 = 5")
        conn.execute("SELECT 1 WHERE 7 = 7")
    spans = [s for s in capture.wait(3) if s.name != "job"]
    assert (
        spans[0].attributes["db.query.fingerprint"] == spans[1].attributes["db.query.fingerprint"]
    )


def test_capture_sql_values_keeps_literals(
    patched: None, capture: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Cfg:
        capture_sql_values = True

    monkeypatch.setattr(_common, "config", lambda: Cfg())
    with api.span("job"):
        sqlite3.connect(":memory:").execute("SELECT 42")
    spans = capture.wait(2)
    assert capture.one("SELECT", spans).attributes["db.query.text"] == "SELECT 42"


def test_failed_statement_records_error_and_raises(patched: None, capture: Capture) -> None:
    conn = sqlite3.connect(":memory:")
    with api.span("job"):
        with pytest.raises(sqlite3.OperationalError, match="no such table"):
            conn.execute("SELECT * FROM missing")
    spans = capture.wait(2)
    failed = capture.one("SELECT missing", spans)
    assert failed.status == "error"
    assert failed.attributes["error.type"] == "OperationalError"
    assert failed.exception()["exception.message"] == "no such table: missing"


def test_types_and_custom_factories_survive(patched: None, capture: Capture) -> None:
    class MyConnection(sqlite3.Connection):
        marker = "conn"

    class MyCursor(sqlite3.Cursor):
        marker = "cursor"

    conn = sqlite3.connect(":memory:", factory=MyConnection)
    assert isinstance(conn, sqlite3.Connection) and isinstance(conn, MyConnection)
    cur = conn.cursor(MyCursor)
    assert isinstance(cur, MyCursor) and cur.marker == "cursor"
    assert type(conn).__name__ == "MyConnection"
    with api.span("job"):
        assert cur.execute("SELECT 3").fetchone() == (3,)
    assert [s.name for s in capture.wait(2)] == ["SELECT", "job"]


def test_transparent_results_and_errors(capture: Capture) -> None:
    def scenario() -> list[object]:
        conn = sqlite3.connect(":memory:")
        conn.execute("CREATE TABLE t (x)")
        conn.executemany("INSERT INTO t VALUES (?)", [(1,), (2,)])
        out: list[object] = [conn.execute("SELECT sum(x) FROM t").fetchone(), conn.total_changes]
        try:
            conn.execute("INSERT INTO nope VALUES (1)")
        except sqlite3.Error as e:
            out.append((type(e), str(e)))
        return out

    plain = scenario()
    sqlite_integration.patch()
    try:
        traced = scenario()
    finally:
        sqlite_integration.unpatch()
    assert traced == plain
    assert not sqlite_integration._wrap.is_wrapped(sqlite3, "connect")
