"""Fork safety of the native pipeline: each process's spans arrive exactly once.

multiprocessing with the fork and spawn start methods, gunicorn --preload with 4 sync or gevent
workers (gevent monkey-patches the workers; the native threads are real OS threads that never
touch Python) and uvicorn --workers 2 (spawned workers, each starting its own pipeline):
the parent's queued spans stay with the parent (the child's queues start empty), every worker
exports its own spans under its own service.instance.id, and workers leaving through
multiprocessing's os._exit or gunicorn's graceful exit still deliver.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import textwrap
import urllib.request
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parents[1] / "unit"
if str(UNIT) not in sys.path:
    sys.path.insert(0, str(UNIT))

from agent_child import child_env, run_child  # noqa: E402
from otlp_receiver import OtlpReceiver, attrs, otlp_receiver_fixture  # noqa: E402, F401
from services import free_port, wait_port  # noqa: E402

START_AGENT = """
    from pyrometer.config import Config
    from pyrometer import runtime
    runtime.start_agent(Config(
        service_name="forky", endpoint=ENDPOINT, traces_endpoint=ENDPOINT + "/v1/traces",
        metrics_endpoint=ENDPOINT + "/v1/metrics", logs_endpoint=ENDPOINT + "/v1/logs",
        export_interval=60.0, metrics_interval=60.0))
"""


def _spans_by_name_and_pid(receiver: OtlpReceiver) -> collections.Counter[tuple[str, int]]:
    counts: collections.Counter[tuple[str, int]] = collections.Counter()
    for _, span in receiver.spans():
        counts[(span.name, int(attrs(span.attributes).get("pid", 0)))] += 1
    return counts


def _instance_by_pid(receiver: OtlpReceiver) -> dict[int, set[str]]:
    out: dict[int, set[str]] = collections.defaultdict(set)
    for resource, span in receiver.spans():
        out[int(attrs(span.attributes).get("pid", 0))].add(resource["service.instance.id"])
    return out


def test_multiprocessing_fork_exports_each_span_once(otlp_receiver: OtlpReceiver) -> None:
    out = run_child(
        START_AGENT
        + """
    import multiprocessing
    def emit_spans(name, count):
        n._test_emit_spans(count, name, attributes={"pid": os.getpid()}, spans_per_trace=5)

    emit_spans("parent-before", 20)   # queued (60 s interval) when the children fork
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=emit_spans, args=("child", 30)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    emit_spans("parent-after", 10)
    emit({"pids": [p.pid for p in procs], "codes": [p.exitcode for p in procs],
          "parent": os.getpid(), "flushed": runtime.flush(10.0)})
    """,
        otlp_receiver.endpoint,
    )
    assert out["codes"] == [0, 0, 0] and out["flushed"] is True
    counts = _spans_by_name_and_pid(otlp_receiver)
    parent = out["parent"]
    expected = {("parent-before", parent): 20, ("parent-after", parent): 10}
    expected.update({("child", pid): 30 for pid in out["pids"]})
    assert dict(counts) == expected  # nothing lost, nothing exported twice
    instances = _instance_by_pid(otlp_receiver)
    assert all(len(ids) == 1 for ids in instances.values())
    assert len(set().union(*instances.values())) == 4  # a new service.instance.id per child


def test_multiprocessing_spawn_children_start_their_own_pipeline(
    otlp_receiver: OtlpReceiver,
) -> None:
    out = run_child(
        """
    import multiprocessing, spawn_worker
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=spawn_worker.work, args=(ENDPOINT,)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    emit({"pids": [p.pid for p in procs], "codes": [p.exitcode for p in procs]})
    """,
        otlp_receiver.endpoint,
        PYTHONPATH=os.pathsep.join([str(UNIT), str(Path(__file__).parent)]),
    )
    assert out["codes"] == [0, 0]
    counts = _spans_by_name_and_pid(otlp_receiver)
    assert dict(counts) == {("spawned", pid): 7 for pid in out["pids"]}


GUNICORN_APP = """
import os
from pyrometer import _native
from pyrometer import runtime
from pyrometer.config import Config

ENDPOINT = os.environ["PYROMETER_TEST_ENDPOINT"]
runtime.start_agent(Config(
    service_name="gunicorn-app", endpoint=ENDPOINT, traces_endpoint=ENDPOINT + "/v1/traces",
    metrics_endpoint=ENDPOINT + "/v1/metrics", logs_endpoint=ENDPOINT + "/v1/logs",
    export_interval=60.0, metrics_interval=60.0))
# A span finished in the master before the workers fork (--preload).
_native._test_emit_spans(1, "preload", attributes={"pid": os.getpid()})


def app(environ, start_response):
    _native._test_emit_spans(1, "request", kind=2, attributes={"pid": os.getpid()})
    body = str(os.getpid()).encode()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]
"""


@pytest.mark.parametrize("worker_class", ["sync", "gevent"])
def test_gunicorn_preload_four_workers_each_request_once(
    otlp_receiver: OtlpReceiver, tmp_path: Path, worker_class: str
) -> None:
    (tmp_path / "forkapp.py").write_text(textwrap.dedent(GUNICORN_APP))
    port = free_port()
    env = child_env(otlp_receiver.endpoint)
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), env["PYTHONPATH"]])
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--preload",
            "-k",
            worker_class,
            "-w",
            "4",
            "-b",
            f"127.0.0.1:{port}",
            "--graceful-timeout",
            "10",
            "forkapp:app",
        ],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    served: collections.Counter[int] = collections.Counter()
    try:
        wait_port(port, proc)
        for _ in range(60):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as resp:
                served[int(resp.read())] += 1
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            output, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _ = proc.communicate()
    assert proc.returncode == 0, output
    assert otlp_receiver.wait_for(lambda: len(otlp_receiver.spans()) >= 61, timeout=10), output
    counts = _spans_by_name_and_pid(otlp_receiver)
    preload = {pid: c for (name, pid), c in counts.items() if name == "preload"}
    assert list(preload.values()) == [1]  # the master's span, never re-sent by a worker
    requests = collections.Counter(
        {pid: c for (name, pid), c in counts.items() if name == "request"}
    )
    assert requests == served  # every request's span exactly once, from the worker that served it
    assert proc.pid in preload


UVICORN_APP = """
import os
from pyrometer import _native
from pyrometer import runtime
from pyrometer.config import Config

ENDPOINT = os.environ["PYROMETER_TEST_ENDPOINT"]
runtime.start_agent(Config(
    service_name="uvicorn-app", endpoint=ENDPOINT, traces_endpoint=ENDPOINT + "/v1/traces",
    metrics_endpoint=ENDPOINT + "/v1/metrics", logs_endpoint=ENDPOINT + "/v1/logs",
    export_interval=60.0, metrics_interval=60.0))


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                # uvicorn workers re-raise SIGTERM after a graceful shutdown, so they die by
                # the signal: no atexit hook runs. The ASGI integration must flush here.
                runtime.flush(2.0)
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    _native._test_emit_spans(1, "request", kind=2, attributes={"pid": os.getpid()})
    body = str(os.getpid()).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
"""


def test_uvicorn_two_spawned_workers_each_request_once(
    otlp_receiver: OtlpReceiver, tmp_path: Path
) -> None:
    (tmp_path / "asgiapp.py").write_text(textwrap.dedent(UVICORN_APP))
    port = free_port()
    env = child_env(otlp_receiver.endpoint)
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), env["PYTHONPATH"]])
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--workers",
            "2",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "asgiapp:app",
        ],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    served: collections.Counter[int] = collections.Counter()
    try:
        wait_port(port, proc)
        for _ in range(40):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as resp:
                served[int(resp.read())] += 1
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            output, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _ = proc.communicate()
    assert otlp_receiver.wait_for(lambda: len(otlp_receiver.spans()) >= 40, timeout=10), output
    counts = _spans_by_name_and_pid(otlp_receiver)
    requests = collections.Counter(
        {pid: c for (name, pid), c in counts.items() if name == "request"}
    )
    assert requests == served
    instances = _instance_by_pid(otlp_receiver)
    assert len(set().union(*instances.values())) == len(served)
