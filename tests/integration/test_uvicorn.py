"""FastAPI under uvicorn (--workers 2) under `pyrometer run`: spans over OTLP from each worker
process; responses identical without Pyrometer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests
from exported import OtlpReceiver, pyrometer_run, run_env, wait_spans
from services import AppProcess, free_port, venv_bin

APPS = str(Path(__file__).parent / "apps")


def uvicorn(port: int, *extra: str) -> list[str]:
    return [venv_bin("uvicorn"), "--host", "127.0.0.1", "--port", str(port), "--app-dir", APPS,
            *extra, "fastapi_app:app"]  # fmt: skip


def test_two_workers(otlp_receiver: OtlpReceiver) -> None:
    port = free_port()
    app = AppProcess(pyrometer_run(*uvicorn(port, "--workers", "2")), port,
                     env=run_env(otlp_receiver, "api"))  # fmt: skip
    try:
        pids = {requests.get(app.base + f"/items/{i}").json()["pid"] for i in range(1, 13)}
        assert requests.get(app.base + "/crash").status_code == 500
        assert requests.get(app.base + "/items/0").status_code == 404
        got = wait_spans(otlp_receiver, lambda ss: len([s for s in ss if s.kind == "server"]) >= 14)
    finally:
        app.stop()
    items = [s for s in got if s.name == "GET /items/{item_id}"]
    assert len(items) == 13
    assert {s.attributes["process.pid"] for s in items if s.attributes["url.path"] != "/items/0"} \
        == pids  # fmt: skip
    assert all(s.attributes["uvicorn.workers"] == 2 for s in items)
    missing = next(s for s in items if s.attributes["url.path"] == "/items/0")
    assert missing.status == "unset" and missing.attributes["http.response.status_code"] == 404
    crash = next(s for s in got if s.name == "GET /crash")
    assert crash.status == "error" and crash.attributes["error.type"] == "ZeroDivisionError"
    assert [f for f in crash.frames() if f["in_app"]][-1]["locals"]["stock"] == "{'apples': 0}"


def _observe(argv: list[str], port: int, env: dict[str, str]) -> list[Any]:
    app = AppProcess(argv, port, env=env)
    try:
        out = []
        for path in ("/items/3", "/items/0", "/crash", "/nope"):
            r = requests.get(app.base + path)
            body = r.json() if r.headers.get("content-type") == "application/json" else r.text
            if isinstance(body, dict):
                body.pop("pid", None)
            headers = {k: v for k, v in r.headers.items() if k.lower() != "date"}
            out.append((r.status_code, body, headers))
        return out
    finally:
        app.stop()


def test_transparent(otlp_receiver: OtlpReceiver) -> None:
    port = free_port()
    plain = _observe(uvicorn(port), port, {})
    port = free_port()
    traced = _observe(pyrometer_run(*uvicorn(port)), port, run_env(otlp_receiver, "api"))
    assert traced == plain
