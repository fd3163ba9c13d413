"""The sqlite3 integration's connection and cursor subclasses behave like the C types the app
asked for: no extra attributes or weak references on default connections, the app's own factory
class keeps what it allows."""

from __future__ import annotations

import sqlite3
import weakref
from typing import Any

import pytest

from pyrometer.integrations import sqlite3 as sqlite_integration

pytestmark = pytest.mark.usefixtures("clean_integrations")


class AppConnection(sqlite3.Connection):
    pass


def _observe() -> list[Any]:
    out: list[Any] = []
    conn = sqlite3.connect(":memory:")
    for probe in (lambda: setattr(conn, "note", 1), lambda: weakref.ref(conn),
                  lambda: weakref.ref(conn.cursor()), lambda: conn.cursor().note):  # fmt: skip
        try:
            probe()
            out.append("ok")
        except (AttributeError, TypeError) as e:
            out.append(type(e).__name__)
    own = sqlite3.connect(":memory:", factory=AppConnection)
    own.note = 2  # the app's class has a __dict__: it stays usable
    out += [isinstance(own, AppConnection), own.note, weakref.ref(own)() is own]
    out.append(own.execute("SELECT 1").fetchone())
    conn.close()
    own.close()
    return out


def test_connection_objects_unchanged() -> None:
    plain = _observe()
    sqlite_integration.patch()
    try:
        traced = _observe()
    finally:
        sqlite_integration.unpatch()
    assert traced == plain
    assert plain[:2] == ["AttributeError", "TypeError"]
