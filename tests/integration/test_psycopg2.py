"""psycopg2 integration against a real PostgreSQL: cursor factories keep working, errors."""

from __future__ import annotations

from typing import Iterator

import psycopg2
import psycopg2.extras
import pytest
from services import Postgres
from spans import Capture, tree

from pyrometer import api
from pyrometer.integrations import psycopg2 as psycopg2_integration

pytestmark = pytest.mark.usefixtures("clean_integrations")


@pytest.fixture
def patched() -> Iterator[None]:
    psycopg2_integration.patch()
    try:
        yield
    finally:
        psycopg2_integration.unpatch()


def test_statements_and_factories(patched: None, capture: Capture, postgres: Postgres) -> None:
    conn = psycopg2.connect(postgres.dsn)
    assert isinstance(conn, psycopg2.extensions.connection)
    try:
        with api.span("job"):
            cur = conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor)
            assert isinstance(cur, psycopg2.extras.RealDictCursor)
            cur.execute("SELECT %s AS answer, 'secret' AS s", (42,))
            assert cur.fetchone() == {"answer": 42, "s": "secret"}
            with pytest.raises(psycopg2.errors.UndefinedTable):
                conn.cursor().execute("SELECT * FROM nope WHERE id = 3")
            conn.rollback()
    finally:
        conn.close()
    spans = capture.wait(3)
    assert tree(spans) == [("SELECT", "job"), ("SELECT nope", "job"), ("job", None)]
    select = capture.one("SELECT", spans)
    assert "secret" not in select.attributes["db.query.text"]
    assert select.attributes["server.port"] == postgres.port
    assert select.attributes["db.system.name"] == "postgresql"
    failed = capture.one("SELECT nope", spans)
    assert failed.status == "error" and failed.attributes["error.type"] == "UndefinedTable"


def test_transparent(postgres: Postgres, capture: Capture) -> None:
    def scenario() -> list[object]:
        conn = psycopg2.connect(postgres.dsn)
        cur = conn.cursor()
        cur.execute("SELECT %s * 2", (21,))
        out: list[object] = [cur.fetchone(), type(conn).__name__, type(cur).__name__]
        try:
            cur.execute("SELEC 1")
        except psycopg2.Error as e:
            out.append((type(e), e.pgcode))
        conn.close()
        return out

    plain = scenario()
    psycopg2_integration.patch()
    try:
        traced = scenario()
    finally:
        psycopg2_integration.unpatch()
    assert traced == plain
