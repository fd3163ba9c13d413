"""_native.traced_statement: a DB-API statement inside its CLIENT span in one native call."""

from __future__ import annotations

import contextvars
from typing import Any

import pytest
import tracer_fixtures
from tracer_fixtures import Captured

from pyrometer import _native

captured = tracer_fixtures.captured  # the fixture, used by name

suppress: contextvars.ContextVar[bool] = contextvars.ContextVar("test_suppress", default=False)
CONN = {"server.address": "db.local", "server.port": 5432, "db.namespace": "shop", "x": None}


def run(fn: Any, query: str, *args: Any, capture: bool = False, **kwargs: Any) -> Any:
    return _native.traced_statement(
        fn, args, kwargs or None, "postgresql", query, CONN, suppress, capture
    )


def test_statement_span_attributes_and_passthrough(captured: Captured) -> None:
    seen: list[Any] = []

    def execute(sql: str, params: tuple[Any, ...], *, timeout: int) -> str:
        seen.append((sql, params, timeout, suppress.get(), _native.current_span()))
        return "rows"

    with _native.span("request") as outer:
        q = "SELECT name FROM users WHERE id = 42 AND email = 'a@b.c'"
        assert run(execute, q, q, (42,), timeout=5) == "rows"
        assert _native.current_span() is outer and suppress.get() is False
    sql, params, timeout, suppressed, current = seen[0]
    assert (sql, params, timeout, suppressed) == (q, (42,), 5, True)
    spans = captured.by_name()
    s = spans["SELECT users"]
    assert current is not None and current.span_id == s["span_id"]
    assert s["kind"] == "client" and s["parent_span_id"] == spans["request"]["span_id"]
    attrs = s["attributes"]
    assert attrs["db.system.name"] == attrs["db.system"] == "postgresql"
    assert attrs["db.query.text"] == "SELECT name FROM users WHERE id = ? AND email = ?"
    assert len(attrs["db.query.fingerprint"]) == 16
    assert attrs["db.operation.name"] == "SELECT" and attrs["db.collection.name"] == "users"
    assert attrs["server.address"] == "db.local" and attrs["server.port"] == 5432
    assert "x" not in attrs  # None: no value, not an attribute


def test_capture_values_names_and_the_cache(captured: Captured) -> None:
    def execute(*args: Any) -> None:
        return None

    q = "UPDATE accounts SET balance = 10 WHERE id = 7"
    run(execute, q, capture=True)
    run(execute, q)  # the cached normalisation, values not captured
    run(execute, "BEGIN")
    run(execute, "")
    spans = captured.drain()
    assert [s["name"] for s in spans] == [
        "UPDATE accounts",
        "UPDATE accounts",
        "BEGIN",
        "postgresql",
    ]
    assert spans[0]["attributes"]["db.query.text"] == q
    assert spans[1]["attributes"]["db.query.text"] == "UPDATE accounts SET balance = ? WHERE id = ?"
    assert "db.collection.name" not in spans[2]["attributes"]


class IntegrityError(Exception):
    pass


def test_driver_error_is_recorded_and_raised_unchanged(captured: Captured) -> None:
    def execute(*args: Any) -> None:
        raise IntegrityError("duplicate key")

    with pytest.raises(IntegrityError, match="duplicate key"):
        run(execute, "INSERT INTO users VALUES (1)")
    assert suppress.get() is False and _native.current_span() is None
    (s,) = captured.drain()
    assert s["name"] == "INSERT users"
    assert s["attributes"]["error.type"] == "IntegrityError"
    assert s["events"][0]["name"] == "exception"
    assert s["events"][0]["attributes"]["exception.message"] == "duplicate key"


def test_suppressed_statements_run_untraced(captured: Captured) -> None:
    token = suppress.set(True)
    try:
        assert run(lambda *a: "inner", "SELECT 1") == "inner"
    finally:
        suppress.reset(token)
    assert captured.drain() == []


def test_bad_arguments() -> None:
    with pytest.raises(TypeError):
        _native.traced_statement(print, [], None, "sqlite", "SELECT 1", {}, suppress, False)
    with pytest.raises(TypeError):
        _native.traced_statement(print, (), None, "sqlite", b"SELECT 1", {}, suppress, False)


def test_no_references_are_leaked(captured: Captured) -> None:
    import gc
    import sys

    def execute(*args: Any) -> str:
        if args and args[0] == "fail":
            raise IntegrityError("x")
        return "ok"

    def cycle() -> None:
        run(execute, "SELECT 1", "ok")
        with pytest.raises(IntegrityError):
            run(execute, "SELECT 2", "fail")

    cycle()
    gc.collect()
    before = [sys.getrefcount(o) for o in (execute, CONN, suppress)]
    for _ in range(200):
        cycle()
    gc.collect()
    assert [sys.getrefcount(o) for o in (execute, CONN, suppress)] == before
    assert len(captured.drain()) == 402
