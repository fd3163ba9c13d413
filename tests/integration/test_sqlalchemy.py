"""SQLAlchemy integration: core events over psycopg and sqlite; the driver span is suppressed."""

from __future__ import annotations

from typing import Iterator

import pytest
import sqlalchemy as sa
from services import Postgres
from spans import Capture, tree

from pyrometer import api
from pyrometer.integrations import psycopg as psycopg_integration
from pyrometer.integrations import sqlalchemy as sqlalchemy_integration
from pyrometer.integrations import sqlite3 as sqlite_integration

pytestmark = pytest.mark.usefixtures("clean_integrations")


@pytest.fixture
def patched() -> Iterator[None]:
    # The drivers are patched too: SQLAlchemy's span must win, without a duplicate.
    for integration in (psycopg_integration, sqlite_integration, sqlalchemy_integration):
        integration.patch()
    try:
        yield
    finally:
        for integration in (sqlalchemy_integration, sqlite_integration, psycopg_integration):
            integration.unpatch()


def test_postgres_through_psycopg(patched: None, capture: Capture, postgres: Postgres) -> None:
    engine = sa.create_engine(postgres.url.replace("postgresql://", "postgresql+psycopg://"))
    meta = sa.MetaData()
    orders = sa.Table("orders", meta, sa.Column("id", sa.Integer), sa.Column("note", sa.Text))
    with engine.begin() as conn:
        meta.drop_all(conn)
        meta.create_all(conn)
    capture.drain()
    with api.span("job"):
        with engine.begin() as conn:
            conn.execute(orders.insert(), [{"id": 1, "note": "x"}, {"id": 2, "note": "y"}])
            rows = conn.execute(sa.select(orders.c.note).where(orders.c.id == 2)).all()
            assert [r.note for r in rows] == ["y"]
            with pytest.raises(sa.exc.ProgrammingError):
                conn.execute(sa.text("SELECT * FROM missing_table WHERE id = 7"))
    engine.dispose()
    spans = capture.wait(4)
    assert tree(spans) == [
        ("INSERT orders", "job"),
        ("SELECT missing_table", "job"),
        ("SELECT orders", "job"),
        ("job", None),
    ]
    insert = capture.one("INSERT orders", spans)
    assert insert.kind == "client"
    a = insert.attributes
    assert a["db.system.name"] == "postgresql"
    assert a["server.address"] == "127.0.0.1" and a["server.port"] == postgres.port
    assert a["db.namespace"] == "postgres"
    failed = capture.one("SELECT missing_table", spans)
    assert failed.status == "error"
    assert "7" not in failed.attributes["db.query.text"]


def test_sqlite_orm(patched: None, capture: Capture) -> None:
    engine = sa.create_engine("sqlite://")
    engine.connect().close()  # dialect start-up (PRAGMAs through the raw driver) out of the way
    capture.drain()
    with api.span("job"):
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT 40 + 2")).scalar() == 42
    spans = capture.wait(2)
    assert tree(spans) == [("SELECT", "job"), ("job", None)]
    assert capture.one("SELECT", spans).attributes["db.system.name"] == "sqlite"


def test_unpatch_removes_listeners() -> None:
    sqlalchemy_integration.patch()
    sqlalchemy_integration.patch()
    assert sa.event.contains(sa.engine.Engine, "before_cursor_execute",
                             sqlalchemy_integration.before_cursor_execute)  # fmt: skip
    sqlalchemy_integration.unpatch()
    assert not sa.event.contains(sa.engine.Engine, "before_cursor_execute",
                                 sqlalchemy_integration.before_cursor_execute)  # fmt: skip
