"""Django over ASGI (uvicorn + django.core.asgi) under `pyrometer run`: sync and async views,
ORM statements (also through sync_to_async), templates and unhandled errors, exported over OTLP
to a real receiver; responses identical without Pyrometer."""

from __future__ import annotations

import signal
import sqlite3
from pathlib import Path
from typing import Any

import requests
from exported import OtlpReceiver, pyrometer_run, run_env, wait_spans
from services import AppProcess, free_port, venv_bin
from spans import tree

APPS = str(Path(__file__).parent / "apps")
REMOTE_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
REMOTE_PARENT = "00f067aa0ba902b7"


def _db(tmp_path: Path) -> str:
    db = tmp_path / "people.sqlite3"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE people (id integer, name text)")
    conn.execute("INSERT INTO people VALUES (7, 'ada')")
    conn.commit()
    conn.close()
    return str(db)


def _uvicorn(port: int) -> list[str]:
    return [venv_bin("uvicorn"), "--host", "127.0.0.1", "--port", str(port), "--app-dir", APPS,
            "--lifespan", "off", "django_asgi.asgi:application"]  # fmt: skip


def test_sync_and_async_views(otlp_receiver: OtlpReceiver, tmp_path: Path) -> None:
    port = free_port()
    env = run_env(otlp_receiver, "orders-asgi", DJANGO_ASGI_DB=_db(tmp_path))
    app = AppProcess(pyrometer_run(*_uvicorn(port)), port, env=env)
    try:
        tp = f"00-{REMOTE_TRACE}-{REMOTE_PARENT}-01"
        r = requests.get(app.base + "/users/7/", headers={"traceparent": tp})
        assert r.text == "<p>ada</p><i>f</i>"
        assert requests.get(app.base + "/async/7/").json()["name"] == "ada"
        assert requests.get(app.base + "/crash/").status_code == 500
        assert requests.get(app.base + "/acrash/").status_code == 500
        assert requests.get(app.base + "/nowhere/").status_code == 404
        got = wait_spans(otlp_receiver, lambda ss: sum(s.kind == "server" for s in ss) >= 5)
    finally:
        app.stop()
    sync_route, async_route = "GET /users/<int:pk>/", "GET /async/<int:pk>/"
    remote = [s for s in got if s.trace_id == REMOTE_TRACE]
    # CONN_MAX_AGE=0: every request opens its sqlite connection, and Django's set-up statements
    # (two PRAGMAs, a compile-option probe) go through the raw driver, traced by sqlite3
    setup = [("PRAGMA", sync_route), ("PRAGMA", sync_route), ("SELECT", sync_route)]
    assert tree(remote) == [
        (sync_route, "<remote>"),
        *setup,
        ("SELECT people", sync_route),
        ("render footer.html", "render user.html"),
        ("render user.html", sync_route),
    ]
    server = next(s for s in remote if s.kind == "server")
    assert server.parent_id == REMOTE_PARENT and server.status == "unset"
    a = server.attributes
    assert a["http.route"] == "/users/<int:pk>/" and a["http.response.status_code"] == 200
    assert a["url.path"] == "/users/7/" and a["http.request.method"] == "GET"
    db = next(s for s in remote if s.name == "SELECT people")
    assert db.attributes["db.system.name"] == "sqlite"
    assert db.attributes["db.query.text"] == "SELECT name FROM people WHERE id = ?"

    async_server = next(s for s in got if s.name == async_route)
    async_trace = [s for s in got if s.trace_id == async_server.trace_id]
    assert tree(async_trace) == [
        (async_route, None),
        *[(name, async_route) for name, _ in setup],
        ("SELECT people", async_route),
    ]

    crashes = [("GET /crash/", "crash", ("divisor", "0")),
               ("GET /acrash/", "async_crash", ("stock", "{'apples': 0}"))]  # fmt: skip
    for name, function, local in crashes:
        crash = next(s for s in got if s.name == name)
        assert crash.status == "error" and crash.attributes["error.type"] == "ZeroDivisionError"
        assert crash.attributes["http.response.status_code"] == 500
        frame = [f for f in crash.frames() if f["in_app"]][-1]
        assert frame["function"] == function and frame["locals"][local[0]] == local[1]
    missing = next(s for s in got if s.kind == "server" and s.attributes["url.path"] == "/nowhere/")
    assert missing.name == "GET" and missing.status == "unset"
    assert missing.attributes["http.response.status_code"] == 404


def _observe(argv: list[str], port: int, env: dict[str, str]) -> tuple[list[Any], int]:
    app = AppProcess(argv, port, env=env)
    try:
        out: list[Any] = []
        for path in ("/users/7/", "/async/7/", "/crash/", "/acrash/", "/nowhere/"):
            r = requests.get(app.base + path)
            headers = {k: v for k, v in r.headers.items() if k.lower() != "date"}
            body = r.json() if path.startswith("/async") else r.text
            if isinstance(body, dict):
                body.pop("pid")
            out.append((r.status_code, body, headers))
    finally:
        app.proc.send_signal(signal.SIGTERM)
        code = app.stop()
    return out, code


def test_transparent(otlp_receiver: OtlpReceiver, tmp_path: Path) -> None:
    db = _db(tmp_path)
    port = free_port()
    plain, plain_code = _observe(_uvicorn(port), port, {"DJANGO_ASGI_DB": db})
    port = free_port()
    env = run_env(otlp_receiver, "orders-asgi", DJANGO_ASGI_DB=db)
    traced, traced_code = _observe(pyrometer_run(*_uvicorn(port)), port, env)
    assert traced == plain
    assert traced_code == plain_code  # uvicorn re-raises SIGTERM: -15 both ways
