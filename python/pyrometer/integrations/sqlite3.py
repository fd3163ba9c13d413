"""sqlite3: statement spans through ``connect(factory=...)`` subclasses of the app's classes.

The connection and cursor types are C types we cannot patch, so ``connect`` hands sqlite3 a
subclass of the requested factory: ``isinstance(conn, sqlite3.Connection)`` stays true.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Callable

from pyrometer.integrations import _common, _wrap, dbapi

TARGET = "sqlite3"
SUPPORTED = ">=3.9"  # the Python version: sqlite3 ships with CPython
_NAME = "sqlite3"
_SYSTEM = "sqlite"

_cursor_classes: dict[type, type] = {}
_connection_classes: dict[type, type] = {}


_NO_ATTRS: dict[str, Any] = {}


def _attrs_of(connection: Any) -> dict[str, Any]:
    return getattr(connection, "_pyrometer_attrs", _NO_ATTRS)


def _same_names(cls: type, base: type) -> type:
    cls.__name__, cls.__qualname__, cls.__module__ = (
        base.__name__,
        base.__qualname__,
        base.__module__,
    )
    return cls


def cursor_class(base: type) -> type:
    cls = _cursor_classes.get(base)
    if cls is not None:
        return cls

    class TracedCursor(base):  # type: ignore[misc, valid-type]
        __slots__ = ()  # no __dict__/__weakref__ the app's cursors would not have

        def execute(self, sql: Any, *args: Any, **kwargs: Any) -> Any:
            return dbapi.traced_with(
                _NAME, _SYSTEM, sql, _attrs_of(self.connection), super().execute, sql, *args,
                **kwargs,
            )  # fmt: skip

        def executemany(self, sql: Any, *args: Any, **kwargs: Any) -> Any:
            return dbapi.traced_with(
                _NAME, _SYSTEM, sql, _attrs_of(self.connection), super().executemany, sql,
                *args, **kwargs,
            )  # fmt: skip

        def executescript(self, script: Any, *args: Any, **kwargs: Any) -> Any:
            return dbapi.traced_with(
                _NAME, _SYSTEM, script, _attrs_of(self.connection), super().executescript,
                script, *args, **kwargs,
            )  # fmt: skip

    _cursor_classes[base] = _same_names(TracedCursor, base)
    return TracedCursor


def connection_class(base: type) -> type:
    cls = _connection_classes.get(base)
    if cls is not None:
        return cls
    default_cursor = sys.modules["sqlite3"].Cursor
    traced_default = cursor_class(default_cursor)

    class TracedConnection(base):  # type: ignore[misc, valid-type]
        # Only our slot: like the C type, the app cannot set other attributes or take weakrefs
        # unless its own factory class allows them.
        __slots__ = ("_pyrometer_attrs",)

        def cursor(self, *args: Any, **kwargs: Any) -> Any:
            factory = kwargs.pop("factory", args[0] if args else default_cursor)
            if isinstance(factory, type) and issubclass(factory, default_cursor):
                factory = cursor_class(factory)
            return super().cursor(factory, *args[1:], **kwargs)

        # Connection.execute* create their cursor in C without calling cursor(): trace here,
        # on a cursor of the default class (what the C methods would have made).
        def execute(self, sql: Any, *args: Any, **kwargs: Any) -> Any:
            return base.cursor(self, traced_default).execute(sql, *args, **kwargs)

        def executemany(self, sql: Any, *args: Any, **kwargs: Any) -> Any:
            return base.cursor(self, traced_default).executemany(sql, *args, **kwargs)

        def executescript(self, script: Any, *args: Any, **kwargs: Any) -> Any:
            return base.cursor(self, traced_default).executescript(script, *args, **kwargs)

    _connection_classes[base] = _same_names(TracedConnection, base)
    return TracedConnection


_FACTORY_POSITION = (
    5  # connect(database, timeout, detect_types, isolation_level, check_same_thread, factory, ...)
)


def _connect(original: Callable[..., Any]) -> Callable[..., Any]:
    @_wrap.wraps(original)
    def connect(*args: Any, **kwargs: Any) -> Any:
        try:
            sqlite3 = sys.modules["sqlite3"]
            positional = len(args) > _FACTORY_POSITION
            factory = (
                args[_FACTORY_POSITION] if positional else kwargs.get("factory", sqlite3.Connection)
            )
            if isinstance(factory, type) and issubclass(factory, sqlite3.Connection):
                traced_factory = connection_class(factory)
                if positional:
                    args = (
                        *args[:_FACTORY_POSITION],
                        traced_factory,
                        *args[_FACTORY_POSITION + 1 :],
                    )
                else:
                    kwargs["factory"] = traced_factory
            database = args[0] if args else kwargs.get("database", "")
            database = (
                os.fsdecode(database)
                if isinstance(database, (bytes, os.PathLike))
                else str(database)
            )
        except Exception as err:
            _common.fault(_NAME, "connect", err)
            return original(*args, **kwargs)
        conn = original(*args, **kwargs)
        try:
            conn._pyrometer_attrs = {"db.namespace": database}
        except AttributeError:
            pass  # the app's factory has __slots__: spans go without db.namespace
        return conn

    return connect


def patch() -> None:
    sqlite3 = sys.modules.get("sqlite3") or __import__("sqlite3")
    dbapi2 = sys.modules.get("sqlite3.dbapi2") or __import__("sqlite3.dbapi2").dbapi2
    try:
        _wrap.wrap(sqlite3, "connect", _connect)
        if dbapi2 is not sqlite3 and not _wrap.is_wrapped(dbapi2, "connect"):
            _wrap.wrap(dbapi2, "connect", lambda _original: sqlite3.connect)
    except BaseException:
        unpatch()
        raise


def unpatch() -> None:
    for name in ("sqlite3.dbapi2", "sqlite3"):
        module = sys.modules.get(name)
        if module is not None:
            _wrap.unwrap(module, "connect")
