"""SQLAlchemy: one statement span per cursor execution through the Engine class's core events,
so any driver underneath is covered; the driver's own span is suppressed (ours wins).

The span is started in ``before_cursor_execute`` and ended in ``after_cursor_execute`` or
``handle_error``; its state travels on the execution context.
"""

from __future__ import annotations

import sys
from typing import Any

from pyrometer.integrations import _common, dbapi

TARGET = "sqlalchemy"
SUPPORTED = ">=1.4,<3"
_NAME = "sqlalchemy"
_STATE = "_pyrometer_state"
_SYSTEMS = {"mssql": "microsoft.sql_server", "oracle": "oracle.db"}  # dialect -> db.system.name


def _conn_attrs(conn: Any) -> dict[str, Any]:
    url = conn.engine.url
    return {
        "server.address": url.host or None,
        "server.port": url.port or None,
        "db.namespace": url.database or None,
    }


def before_cursor_execute(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    if context is None or _common.suppressed_db():
        return
    try:
        dialect = conn.dialect.name
        span = dbapi.start_span(_SYSTEMS.get(dialect, dialect), statement, _conn_attrs(conn))
        if executemany and hasattr(parameters, "__len__"):
            span.set("db.operation.batch.size", len(parameters))
        setattr(context, _STATE, (span, _common._suppress_db.set(True)))
    except Exception as err:
        _common.fault(_NAME, "before_cursor_execute", err)


def _end(context: Any, exc: BaseException | None) -> None:
    state = getattr(context, _STATE, None) if context is not None else None
    if state is None:
        return
    setattr(context, _STATE, None)
    span, token = state
    try:
        _common._suppress_db.reset(token)
    except Exception as err:
        _common.fault(_NAME, "reset", err)
    _common.finish(span, _NAME, exc)


def after_cursor_execute(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    _end(context, None)


def handle_error(exception_context: Any) -> None:
    _end(exception_context.execution_context, exception_context.original_exception)


_LISTENERS = (
    ("before_cursor_execute", before_cursor_execute),
    ("after_cursor_execute", after_cursor_execute),
    ("handle_error", handle_error),
)


def patch() -> None:
    sqlalchemy = sys.modules.get("sqlalchemy") or __import__("sqlalchemy")
    engine, event = sqlalchemy.engine.Engine, sqlalchemy.event
    try:
        for name, fn in _LISTENERS:
            if not event.contains(engine, name, fn):
                event.listen(engine, name, fn)
    except BaseException:
        unpatch()
        raise


def unpatch() -> None:
    sqlalchemy = sys.modules.get("sqlalchemy")
    if sqlalchemy is None:
        return
    engine, event = sqlalchemy.engine.Engine, sqlalchemy.event
    for name, fn in _LISTENERS:
        if event.contains(engine, name, fn):
            event.remove(engine, name, fn)
