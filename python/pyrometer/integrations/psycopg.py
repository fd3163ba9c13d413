"""psycopg (3): statement spans by wrapping the cursor classes' execute/executemany (sync, async).

Cursors are Python classes here, so the class methods are wrapped in place; ClientCursor and
RawCursor inherit them. server.address/port and db.namespace come from ``connection.info``.
"""

from __future__ import annotations

import sys
from typing import Any, Callable

from pyrometer.integrations import _wrap, dbapi

TARGET = "psycopg"
SUPPORTED = ">=3.1,<4"
_NAME = "psycopg"
_SYSTEM = "postgresql"
_SYNC = ("Cursor", "ServerCursor")
_ASYNC = ("AsyncCursor", "AsyncServerCursor")


def _attrs(cursor: Any) -> Callable[[], dict[str, Any]]:
    def attrs() -> dict[str, Any]:
        conn = cursor.connection
        out = dbapi.server_attrs(conn.info)
        out["_context"] = conn
        return out

    return attrs


def _sync(original: Callable[..., Any]) -> Callable[..., Any]:
    @_wrap.wraps(original)
    def method(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        return dbapi.traced(
            _NAME, _SYSTEM, query, _attrs(self), original, self, query, *args, **kwargs
        )

    return method


def _async(original: Callable[..., Any]) -> Callable[..., Any]:
    @_wrap.wraps(original)
    async def method(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        return await dbapi.traced_async(
            _NAME, _SYSTEM, query, _attrs(self), original, self, query, *args, **kwargs
        )

    return method


def _classes() -> list[tuple[Any, Callable[..., Any]]]:
    psycopg = sys.modules.get("psycopg") or __import__("psycopg")
    out = [(getattr(psycopg, n), _sync) for n in _SYNC if hasattr(psycopg, n)]
    return out + [(getattr(psycopg, n), _async) for n in _ASYNC if hasattr(psycopg, n)]


def patch() -> None:
    try:
        for cls, factory in _classes():
            for name in ("execute", "executemany"):
                if name in cls.__dict__:
                    _wrap.wrap(cls, name, factory)
    except BaseException:
        unpatch()
        raise


def unpatch() -> None:
    if "psycopg" not in sys.modules:
        return
    for cls, _ in _classes():
        _wrap.unwrap(cls, "execute")
        _wrap.unwrap(cls, "executemany")
