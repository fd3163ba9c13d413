"""Celery: publish spans in the test process, execute spans in a real `celery worker` run under
`pyrometer run` (exported over OTLP), joined into one trace through the message headers."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Iterator

import pytest
import redis
from exported import OtlpReceiver, attrs, pyrometer_run, run_env, wait_spans
from services import Redis, venv_bin
from spans import Capture

from pyrometer import api
from pyrometer.integrations import celery as celery_integration

APPS = Path(__file__).parent / "apps"
sys.path.insert(0, str(APPS))

pytestmark = pytest.mark.usefixtures("clean_integrations")


class Worker:
    """`celery worker` in a subprocess; ready when it logs so (it opens no port)."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        import os
        import subprocess
        import time

        full = dict(os.environ, **env)
        self.proc = subprocess.Popen(argv, env=full, cwd=APPS, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)  # fmt: skip
        self.lines: list[str] = []
        deadline = time.monotonic() + 60
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("worker exited:\n" + "".join(self.lines))
            self.lines.append(line)
            if "ready." in line:
                return
        raise TimeoutError("".join(self.lines))

    def stop(self) -> int:
        self.proc.terminate()
        try:
            return self.proc.wait(30)
        except Exception:
            self.proc.kill()
            return self.proc.wait()


@pytest.fixture
def worker(redis_server: Redis, otlp_receiver: OtlpReceiver) -> Iterator[Worker]:
    redis.Redis(port=redis_server.port).flushall()  # no task left over by another test
    env = run_env(otlp_receiver, "worker", BROKER_URL=redis_server.url)
    w = Worker(pyrometer_run(venv_bin("celery"), "-A", "celery_app", "worker", "--pool=solo",
                             "-Q", "shop", "--loglevel=INFO"), env)  # fmt: skip
    try:
        yield w
    finally:
        w.stop()


@pytest.fixture
def celery_app(redis_server: Redis) -> Iterator[object]:
    import celery_app as module

    module.app.conf.broker_url = redis_server.url
    celery_integration.patch()
    try:
        yield module
    finally:
        celery_integration.unpatch()


def test_publish_and_execute_are_one_trace(
    celery_app: object, worker: Worker, otlp_receiver: OtlpReceiver, capture: Capture
) -> None:
    with api.span("checkout"):
        celery_app.add.delay(2, 3)  # type: ignore[attr-defined]
        celery_app.fail.delay(7)  # type: ignore[attr-defined]
        celery_app.flaky.delay(5)  # type: ignore[attr-defined]
    local = capture.wait(4)
    producers = {s.name: s for s in local if s.kind == "producer"}
    assert set(producers) == {"send shop.add", "send shop.fail", "send shop.flaky"}
    root = capture.one("checkout", local)
    assert all(p.parent_id == root.span_id for p in producers.values())
    send = producers["send shop.add"]
    assert send.attributes["messaging.system"] == "celery"
    assert send.attributes["messaging.destination.name"] == "shop"
    assert send.attributes["messaging.operation.type"] == "send"

    def done(ss: list) -> bool:
        names = [s.name for s in ss if s.kind == "consumer"]
        return {"process shop.add", "process shop.fail"} <= set(names) and (
            names.count("process shop.flaky") >= 2
        )

    got = wait_spans(otlp_receiver, done)
    consumers = [s for s in got if s.kind == "consumer"]
    assert {s.trace_id for s in consumers} == {root.trace_id}
    add = next(s for s in consumers if s.name == "process shop.add")
    assert add.parent_id == send.span_id
    assert add.attributes["celery.state"] == "SUCCESS"
    assert add.attributes["messaging.operation.type"] == "process"
    assert add.attributes["messaging.message.id"] == send.attributes["messaging.message.id"]
    assert add.status == "unset"
    fail = next(s for s in consumers if s.name == "process shop.fail")
    assert fail.parent_id == producers["send shop.fail"].span_id
    assert fail.status == "error" and fail.attributes["celery.state"] == "FAILURE"
    assert fail.exception()["exception.message"] == "order 7: out of stock"
    frame = [f for f in fail.frames() if f["in_app"]][-1]
    assert frame["function"] == "fail" and frame["locals"]["reason"] == "'out of stock'"
    flaky = sorted((s for s in consumers if s.name == "process shop.flaky"),
                   key=lambda s: s.attributes["celery.retries"])  # fmt: skip
    assert [s.attributes["celery.retries"] for s in flaky] == [0, 1]
    assert flaky[0].attributes["celery.state"] == "RETRY"
    assert "first attempt" in flaky[0].attributes["celery.retry.reason"]
    assert flaky[1].attributes["celery.state"] == "SUCCESS"
    # the retry was published by the worker: its consumer span continues the same trace
    assert flaky[1].trace_id == root.trace_id


def test_queue_depth_sampled_from_the_worker(
    celery_app: object, worker: Worker, otlp_receiver: OtlpReceiver
) -> None:
    celery_app.block.delay(celery_integration.QUEUE_DEPTH_INTERVAL + 3)  # type: ignore[attr-defined]
    for i in range(3):
        celery_app.add.delay(i, i)  # type: ignore[attr-defined]

    def depth_points() -> list:
        return otlp_receiver.metric_points(celery_integration.QUEUE_DEPTH_METRIC)

    deadline = time.monotonic() + celery_integration.QUEUE_DEPTH_INTERVAL * 3
    while not depth_points() and time.monotonic() < deadline:
        time.sleep(0.2)
    points = depth_points()
    assert points, f"no queue depth point; metrics: {[m.name for _, m in otlp_receiver.metrics()]}"
    resource, metric, point = points[0]
    assert metric.WhichOneof("data") == "gauge"
    assert metric.unit == "{message}"
    assert attrs(point.attributes) == {
        "messaging.system": "celery",
        "messaging.destination.name": "shop",
    }
    assert point.WhichOneof("value") == "as_int"
    assert point.as_int == 3  # the three adds wait behind the blocking task
    assert resource["service.name"] == "worker"
    # The log path is gone: no span-less depth records any more.
    assert not [r for _, r in otlp_receiver.logs() if "queue" in r.event_name]
