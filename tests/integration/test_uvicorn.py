"""FastAPI under uvicorn (--workers 2) under `pyrometer run`: spans over OTLP from each worker
process; responses identical without Pyrometer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests
from exported import OtlpReceiver, pyrometer_run, run_env, spans, wait_spans
from services import AppProcess, free_port, until_workers_answer, venv_bin

APPS = str(Path(__file__).parent / "apps")


def uvicorn(port: int, *extra: str) -> list[str]:
    return [venv_bin("uvicorn"), "--host", "127.0.0.1", "--port", str(port), "--app-dir", APPS,
            *extra, "fastapi_app:app"]  # fmt: skip


def test_two_workers(otlp_receiver: OtlpReceiver) -> None:
    port = free_port()
    app = AppProcess(pyrometer_run(*uvicorn(port, "--workers", "2")), port,
                     env=run_env(otlp_receiver, "api"))  # fmt: skip
    try:
        pids, sent = until_workers_answer(  # both workers answer, in any order
            lambda n: requests.get(app.base + f"/items/{n}").json()["pid"], 2, at_least=12
        )
        assert requests.get(app.base + "/crash").status_code == 500
        assert requests.get(app.base + "/items/0").status_code == 404

        def per_worker_metrics() -> dict[int, dict[str, Any]]:
            return {res.get("process.pid"): res for res, _, _ in
                    otlp_receiver.metric_points("process.memory.usage")
                    if res.get("process.pid") in pids}  # fmt: skip

        assert otlp_receiver.wait_for(lambda: len(per_worker_metrics()) == 2, timeout=30)
        got = wait_spans(otlp_receiver, lambda ss: sum(s.kind == "server" for s in ss) >= sent + 2)
    finally:
        app.stop()
    assert len(pids) == 2
    items = [(res, s) for res, s in spans(otlp_receiver) if s.name == "GET /items/{item_id}"]
    assert len(items) == sent + 1
    assert all("process.pid" not in s.attributes for _, s in items)  # worker data: resource
    found = [(res, s) for res, s in items if s.attributes["url.path"] != "/items/0"]
    assert {res["process.pid"] for res, _ in found} == pids
    identities = {_worker_identity(res) for res, _ in items}
    assert len(identities) == 2
    a, b = sorted(identities, key=lambda i: i[1])
    assert a[0] != b[0] and a[1] != b[1]  # service.instance.id, process.pid
    assert a[2] == b[2]  # the same supervisor
    assert a[3] == b[3] == "uvicorn" and {a[4], b[4]} == {1, 2} and a[5] == b[5] == 2
    metric_identities = {_worker_identity(res) for res in per_worker_metrics().values()}
    assert metric_identities == identities
    missing = next(s for _, s in items if s.attributes["url.path"] == "/items/0")
    assert missing.status == "unset" and missing.attributes["http.response.status_code"] == 404
    crash = next(s for s in got if s.name == "GET /crash")
    assert crash.status == "error" and crash.attributes["error.type"] == "ZeroDivisionError"
    assert [f for f in crash.frames() if f["in_app"]][-1]["locals"]["stock"] == "{'apples': 0}"


def _worker_identity(res: dict[str, Any]) -> tuple[Any, ...]:
    keys = ("service.instance.id", "process.pid", "process.parent_pid", "pyrometer.worker.kind",
            "pyrometer.worker.index", "uvicorn.workers")  # fmt: skip
    return tuple(res.get(k) for k in keys)


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
