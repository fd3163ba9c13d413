"""psycopg2: statement spans through ``connect(connection_factory=...)`` subclasses.

Its connection and cursor are C types, so ``connect`` gets a subclass of the requested connection
class whose ``cursor()`` builds a subclass of the requested cursor class (DictCursor included):
``isinstance`` checks keep working. Connections made before patch() stay untraced.
"""

from __future__ import annotations

import sys
from typing import Any, Callable

from pyrometer.integrations import _common, _wrap, dbapi

TARGET = "psycopg2"
SUPPORTED = ">=2.8,<3"
_NAME = "psycopg2"
_SYSTEM = "postgresql"

_cursor_classes: dict[type, type] = {}
_connection_classes: dict[type, type] = {}


def _attrs(cursor: Any) -> Callable[[], dict[str, Any]]:
    def attrs() -> dict[str, Any]:
        out = dbapi.server_attrs(cursor.connection.info)
        out["_context"] = cursor
        return out

    return attrs


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
        def execute(self, query: Any, *args: Any, **kwargs: Any) -> Any:
            sup = super().execute
            return dbapi.traced(_NAME, _SYSTEM, query, _attrs(self), sup, query, *args, **kwargs)

        def executemany(self, query: Any, *args: Any, **kwargs: Any) -> Any:
            sup = super().executemany
            return dbapi.traced(_NAME, _SYSTEM, query, _attrs(self), sup, query, *args, **kwargs)

        def callproc(self, procname: Any, *args: Any, **kwargs: Any) -> Any:
            sup = super().callproc
            return dbapi.traced(
                _NAME, _SYSTEM, f"CALL {procname}", _attrs(self), sup, procname, *args, **kwargs
            )

    _cursor_classes[base] = _same_names(TracedCursor, base)
    return TracedCursor


def connection_class(base: type) -> type:
    cls = _connection_classes.get(base)
    if cls is not None:
        return cls
    default_cursor = sys.modules["psycopg2.extensions"].cursor

    class TracedConnection(base):  # type: ignore[misc, valid-type]
        def cursor(self, *args: Any, **kwargs: Any) -> Any:
            try:
                factory = kwargs.get("cursor_factory") or self.cursor_factory or default_cursor
                if isinstance(factory, type) and issubclass(factory, default_cursor):
                    kwargs["cursor_factory"] = cursor_class(factory)
            except Exception as err:
                _common.fault(_NAME, "cursor", err)
            return super().cursor(*args, **kwargs)

    _connection_classes[base] = _same_names(TracedConnection, base)
    return TracedConnection


def _connect(original: Callable[..., Any]) -> Callable[..., Any]:
    @_wrap.wraps(original)
    def connect(dsn: Any = None, connection_factory: Any = None, *args: Any, **kwargs: Any) -> Any:
        try:
            base = connection_factory or sys.modules["psycopg2.extensions"].connection
            if isinstance(base, type) and issubclass(
                base, sys.modules["psycopg2.extensions"].connection
            ):
                connection_factory = connection_class(base)
        except Exception as err:
            _common.fault(_NAME, "connect", err)
        return original(dsn, connection_factory, *args, **kwargs)

    return connect


def patch() -> None:
    psycopg2 = sys.modules.get("psycopg2") or __import__("psycopg2")
    __import__("psycopg2.extensions")  # imported by psycopg2 itself; makes the lookup explicit
    _wrap.wrap(psycopg2, "connect", _connect)


def unpatch() -> None:
    psycopg2 = sys.modules.get("psycopg2")
    if psycopg2 is not None:
        _wrap.unwrap(psycopg2, "connect")
