"""A framework-less WSGI app under gevent, under `pyrometer run`: concurrent requests interleave
in greenlets, and each must still get its own SERVER span with its own statement spans as
children (context per greenlet); errors recorded; behaviour unchanged.

Served two ways: by gunicorn's gevent worker, and by gevent's own pywsgi server (what that worker
runs) with the app wrapped by hand in ``wsgi.wrap_app``.
"""

from __future__ import annotations

import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from exported import OtlpReceiver, pyrometer_run, run_env, wait_spans
from services import AppProcess, free_port, venv_bin
from spans import tree

APPS = str(Path(__file__).parent / "apps")
TRACES = [f"{i:032x}" for i in range(0xA1, 0xA5)]
PARENT = "00f067aa0ba902b7"


def _gunicorn(port: int) -> list[str]:
    return [venv_bin("gunicorn"), "-b", f"127.0.0.1:{port}", "--chdir", APPS, "-k", "gevent",
            "-w", "1", "--worker-connections", "50", "gevent_wsgi:app"]  # fmt: skip


def _pywsgi(port: int) -> list[str]:
    return [sys.executable, str(Path(APPS) / "gevent_server.py"), str(port)]


@pytest.mark.parametrize(
    "server",
    [pytest.param(_gunicorn, id="gunicorn"), pytest.param(_pywsgi, id="pywsgi")],
)  # fmt: skip
def test_concurrent_requests_keep_their_own_trees(otlp_receiver: OtlpReceiver, server) -> None:
    port = free_port()
    app = AppProcess(pyrometer_run(*server(port)), port, env=run_env(otlp_receiver, "gev"))
    try:

        def get(trace: str) -> requests.Response:
            tp = f"00-{trace}-{PARENT}-01"
            return requests.get(f"{app.base}/hits/{trace[-2:]}", headers={"traceparent": tp})

        with ThreadPoolExecutor(len(TRACES)) as pool:  # all in flight at once in one worker
            answers = list(pool.map(get, TRACES))
        assert [r.status_code for r in answers] == [200] * len(TRACES)
        assert len({r.headers["X-Pid"] for r in answers}) == 1
        assert requests.get(app.base + "/boom").status_code == 500
        got = wait_spans(otlp_receiver, lambda ss: sum(s.kind == "server" for s in ss) >= 5)
    finally:
        app.stop()
    for trace in TRACES:
        mine = [s for s in got if s.trace_id == trace]
        assert tree(mine) == [
            ("CREATE hits", "GET"),
            ("GET", "<remote>"),
            ("INSERT hits", "GET"),
            ("SELECT hits", "GET"),
        ], trace
        server = next(s for s in mine if s.kind == "server")
        assert server.parent_id == PARENT
        assert server.attributes["url.path"] == f"/hits/{trace[-2:]}"
        assert server.attributes["http.response.status_code"] == 200
    boom = next(s for s in got if s.kind == "server" and s.attributes["url.path"] == "/boom")
    assert boom.status == "error" and boom.attributes["error.type"] == "RuntimeError"
    assert boom.attributes["http.response.status_code"] == 500


def _observe(argv: list[str], port: int, env: dict[str, str]) -> tuple[list[Any], int]:
    app = AppProcess(argv, port, env=env)
    try:
        out: list[Any] = []
        for path in ("/a", "/boom", "/b"):
            r = requests.get(app.base + path)
            headers = {k: v for k, v in r.headers.items() if k not in ("Date", "X-Pid")}
            out.append((r.status_code, r.text.split(" ")[0], headers))
    finally:
        app.proc.send_signal(signal.SIGTERM)
        code = app.stop()
    return out, code


def test_transparent(otlp_receiver: OtlpReceiver) -> None:
    port = free_port()
    plain, plain_code = _observe(_gunicorn(port), port, {})
    port = free_port()
    traced, traced_code = _observe(pyrometer_run(*_gunicorn(port)), port,
                                   run_env(otlp_receiver, "gev"))  # fmt: skip
    assert traced == plain
    assert traced_code == plain_code == 0
