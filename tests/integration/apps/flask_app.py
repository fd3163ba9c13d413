"""A small Flask service for out-of-process tests (gunicorn under `pyrometer run`)."""

from __future__ import annotations

import logging
import os
import sqlite3
import tempfile

from flask import Flask, jsonify, request

app = Flask(__name__)
log = logging.getLogger("shop.users")
DB = os.path.join(tempfile.gettempdir(), f"pyrometer-flask-app-{os.getppid()}.db")


def _db() -> sqlite3.Connection:
    conn = sqlite3.connect(DB)
    conn.execute("CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT OR IGNORE INTO users VALUES (3, 'grace')")
    return conn


@app.get("/users/<int:user_id>")
def user(user_id: int):  # type: ignore[no-untyped-def]
    conn = _db()
    try:
        row = conn.execute("SELECT name FROM users WHERE id = ?", (user_id,)).fetchone()
    finally:
        conn.close()
    if row is None:
        log.warning("user %d not found", user_id)
    return jsonify(id=user_id, name=row[0] if row else None, pid=os.getpid())


@app.get("/crash")
def crash():  # type: ignore[no-untyped-def]
    basket = {"items": 0}
    return str(10 / basket["items"])


@app.get("/headers")
def headers():  # type: ignore[no-untyped-def]
    return jsonify(sorted(k.lower() for k in request.headers.keys()))
