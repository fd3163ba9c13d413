"""A framework-less WSGI app for gunicorn's gevent worker: each request queries sqlite, yields to
the other greenlets mid-request, queries again and streams its answer."""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from typing import Any, Callable, Iterator

DB = os.path.join(tempfile.gettempdir(), f"pyrometer-gevent-wsgi-{os.getppid()}.db")


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
    path = environ["PATH_INFO"]
    if path == "/boom":
        raise RuntimeError("gevent app failed")
    conn = sqlite3.connect(DB, timeout=10)
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS hits (path TEXT)")
        conn.execute("INSERT INTO hits VALUES (?)", (path,))
        conn.commit()  # no write lock held while other greenlets run
        time.sleep(0.2)  # monkey-patched: the other requests' greenlets run meanwhile
        (count,) = conn.execute("SELECT count(*) FROM hits").fetchone()
    finally:
        conn.close()
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-Pid", str(os.getpid()))])
    yield path.encode()
    yield b" %d" % count
