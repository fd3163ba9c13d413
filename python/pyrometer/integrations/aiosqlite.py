"""aiosqlite: every call it hands to its connection's worker thread runs in the caller's context,
so the sqlite3 integration's statement spans there are children of the awaiting task's span.

aiosqlite queues plain callables to one thread per connection, which would otherwise run them in
that thread's empty context: each statement became the root of a trace of its own, and under
SQLAlchemy the driver span was not suppressed (a duplicate of SQLAlchemy's). The spans
themselves come from the sqlite3 integration; this one only carries the context across.
"""

from __future__ import annotations

import contextvars
import sys
from typing import Any, Callable

from pyrometer.integrations import _wrap

TARGET = "aiosqlite"
SUPPORTED = ">=0.17,<1"
_NAME = "aiosqlite"


def _execute(original: Callable[..., Any]) -> Callable[..., Any]:
    @_wrap.wraps(original)
    async def execute(self: Any, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        # copy_context() cannot fail; the worker thread runs ctx.run(fn, ...) in its place.
        return await original(self, contextvars.copy_context().run, fn, *args, **kwargs)

    return execute


def patch() -> None:
    core = sys.modules.get("aiosqlite.core") or __import__("aiosqlite.core", fromlist=["x"])
    if not callable(getattr(core.Connection, "_execute", None)):
        raise RuntimeError("aiosqlite.Connection._execute not found: unsupported version")
    _wrap.wrap(core.Connection, "_execute", _execute)


def unpatch() -> None:
    core = sys.modules.get("aiosqlite.core")
    if core is not None:
        _wrap.unwrap(core.Connection, "_execute")
