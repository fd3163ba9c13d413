"""Flask under gunicorn under `pyrometer run`: spans exported over OTLP to a real receiver,
for sync workers and for --preload with 2 workers; behaviour identical without Pyrometer."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import requests
from exported import OtlpReceiver, attrs, pyrometer_run, run_env, spans, wait_spans
from services import AppProcess, free_port, until_workers_answer, venv_bin
from spans import tree

APPS = str(Path(__file__).parent / "apps")
REMOTE_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
REMOTE_PARENT = "00f067aa0ba902b7"


def gunicorn(port: int, *extra: str) -> list[str]:
    return [venv_bin("gunicorn"), "-b", f"127.0.0.1:{port}", "--chdir", APPS, *extra,
            "flask_app:app"]  # fmt: skip


def test_sync_worker_request_tree(otlp_receiver: OtlpReceiver) -> None:
    port = free_port()
    app = AppProcess(pyrometer_run(*gunicorn(port, "-w", "1")), port,
                     env=run_env(otlp_receiver, "shop"))  # fmt: skip
    try:
        tp = f"00-{REMOTE_TRACE}-{REMOTE_PARENT}-01"
        r = requests.get(app.base + "/users/3", headers={"traceparent": tp})
        assert r.json()["name"] == "grace"
        assert requests.get(app.base + "/crash").status_code == 500
        assert requests.get(app.base + "/users/9").json()["name"] is None  # logs a warning
        got = wait_spans(otlp_receiver, lambda ss: {"GET /users/<int:user_id>", "GET /crash"}
                         <= {s.name for s in ss} and len(ss) >= 9)  # fmt: skip
        _wait_log(otlp_receiver, "user 9 not found")
    finally:
        app.stop()
    request_spans = [s for s in got if s.trace_id == REMOTE_TRACE]
    route = "GET /users/<int:user_id>"
    assert tree(request_spans) == [
        ("CREATE users", route),
        (route, "<remote>"),
        ("INSERT users", route),
        ("SELECT users", route),
    ]
    server = next(s for s in request_spans if s.kind == "server")
    assert server.parent_id == REMOTE_PARENT
    a = server.attributes
    assert a["http.route"] == "/users/<int:user_id>" and a["http.response.status_code"] == 200
    assert "process.pid" not in a and "gunicorn.worker.class" not in a  # worker data: resource
    resource = next(res for res, s in spans(otlp_receiver) if s.span_id == server.span_id)
    assert resource["service.name"] == "shop"
    assert resource["gunicorn.worker.class"] == "SyncWorker"
    assert resource["pyrometer.worker.kind"] == "gunicorn"
    assert resource["pyrometer.worker.index"] == 1
    assert resource["process.pid"] == r.json()["pid"]
    assert resource["process.parent_pid"] == app.proc.pid  # `pyrometer run` execs into the master
    _warning_linked(otlp_receiver, got)
    crash = next(s for s in got if s.name == "GET /crash")
    assert crash.status == "error" and crash.attributes["error.type"] == "ZeroDivisionError"
    frames = crash.frames()
    assert frames[-1]["function"] == "crash" and frames[-1]["locals"]["basket"] == "{'items': 0}"


def _worker_identity(res: dict[str, Any]) -> tuple[Any, ...]:
    keys = ("service.instance.id", "process.pid", "process.parent_pid", "pyrometer.worker.kind",
            "pyrometer.worker.index", "gunicorn.worker.class")  # fmt: skip
    return tuple(res.get(k) for k in keys)


def test_preload_two_workers(otlp_receiver: OtlpReceiver) -> None:
    port = free_port()
    app = AppProcess(pyrometer_run(*gunicorn(port, "--preload", "-w", "2")), port,
                     env=run_env(otlp_receiver, "shop"))  # fmt: skip
    try:
        pids, sent = until_workers_answer(  # the kernel picks the worker
            lambda _: requests.get(app.base + "/users/3").json()["pid"], 2
        )

        def per_worker_metrics() -> dict[int, dict[str, Any]]:
            return {res.get("process.pid"): res for res, _, _ in
                    otlp_receiver.metric_points("process.memory.usage")
                    if res.get("process.pid") in pids}  # fmt: skip

        assert otlp_receiver.wait_for(lambda: len(per_worker_metrics()) == 2, timeout=30)
        wait_spans(otlp_receiver, lambda ss: sum(s.kind == "server" for s in ss) >= sent)
    finally:
        app.stop()
    assert len(pids) == 2
    servers = [(res, s) for res, s in spans(otlp_receiver) if s.kind == "server"]
    assert all(s.name == "GET /users/<int:user_id>" for _, s in servers)
    assert all("process.pid" not in s.attributes for _, s in servers)
    # Spans: each worker's own resource (instance id, pid, index differ; arbiter the same).
    span_identities = {_worker_identity(res) for res, _ in servers}
    assert len(servers) == sent
    assert {i[1] for i in span_identities} == pids
    assert len(span_identities) == 2
    a, b = sorted(span_identities, key=lambda i: i[1])
    assert a[0] != b[0] and a[1] != b[1]  # service.instance.id, process.pid
    assert a[2] == b[2] == app.proc.pid  # same arbiter
    assert {a[4], b[4]} == {1, 2} and a[3] == b[3] == "gunicorn"
    # Metrics carry the same per-worker resource as that worker's spans.
    metric_identities = {_worker_identity(res) for res in per_worker_metrics().values()}
    assert metric_identities == span_identities


def _observe(argv: list[str], port: int, env: dict[str, str]) -> tuple[list[Any], int]:
    app = AppProcess(argv, port, env=env)
    try:
        out: list[Any] = []
        for path in ("/users/3", "/users/9", "/crash", "/nope", "/headers"):
            r = requests.get(app.base + path)
            headers = {k: v for k, v in r.headers.items() if k not in ("Date",)}
            body = r.json() if path.startswith("/users") else r.text
            if isinstance(body, dict):
                body.pop("pid")
            out.append((r.status_code, body, headers))
    finally:
        app.proc.send_signal(signal.SIGTERM)
        code = app.stop()
    return out, code


def test_transparent(otlp_receiver: OtlpReceiver) -> None:
    port = free_port()
    plain, plain_code = _observe(gunicorn(port, "-w", "1"), port, {})
    port = free_port()
    traced, traced_code = _observe(pyrometer_run(*gunicorn(port, "-w", "1")), port,
                                   run_env(otlp_receiver, "shop"))  # fmt: skip
    assert traced == plain
    assert traced_code == plain_code == 0


def _wait_log(otlp_receiver: OtlpReceiver, body: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(r.body.string_value == body for _, r in otlp_receiver.logs()):
            return
        time.sleep(0.1)


def _warning_linked(otlp_receiver: OtlpReceiver, got: list) -> None:
    """The app's logger.warning went out as an OTLP log record linked to its request span."""
    records = [r for _, r in otlp_receiver.logs() if r.body.string_value == "user 9 not found"]
    assert len(records) == 1
    record = records[0]
    servers = [s for s in got if s.kind == "server" and s.attributes["url.path"] == "/users/9"]
    assert len(servers) == 1
    assert record.trace_id.hex() == servers[0].trace_id
    assert record.span_id.hex() == servers[0].span_id
    assert record.severity_text == "WARNING"
    assert attrs(record.attributes)["code.function.name"] == "user"


def test_plain_wsgi_app_and_gthread(otlp_receiver: OtlpReceiver) -> None:
    port = free_port()
    argv = [venv_bin("gunicorn"), "-b", f"127.0.0.1:{port}", "--chdir", APPS,
            "-k", "gthread", "--threads", "2", "plain_wsgi:app"]  # fmt: skip
    app = AppProcess(pyrometer_run(*argv), port, env=run_env(otlp_receiver, "plain"))
    try:
        r = requests.post(app.base + "/things?x=1", headers={"User-Agent": "t/3"})
        assert (r.status_code, r.text, r.headers["X-Plain"]) == (201, "made", "1")
        assert requests.get(app.base + "/boom").status_code == 500
        got = wait_spans(otlp_receiver, lambda ss: len([s for s in ss if s.kind == "server"]) >= 2)
    finally:
        app.stop()
    made = next(s for s in got if s.attributes["url.path"] == "/things")
    assert made.name == "POST" and made.status == "unset"  # no framework, so no route
    assert made.attributes["http.response.status_code"] == 201
    assert made.attributes["user_agent.original"] == "t/3"
    resource = next(
        res for res, s in spans(otlp_receiver) if s.attributes.get("url.path") == "/things"
    )
    assert resource["gunicorn.worker.class"] == "ThreadWorker"
    boom = next(s for s in got if s.attributes["url.path"] == "/boom")
    assert boom.status == "error" and boom.attributes["error.type"] == "RuntimeError"
    assert boom.attributes["http.response.status_code"] == 500
