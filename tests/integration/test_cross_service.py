"""FastAPI (uvicorn) → httpx → Django (gunicorn) → Celery (worker), every process under
`pyrometer run`, exporting to one real OTLP receiver: one trace with the right parents."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
import redis
import requests
from exported import OtlpReceiver, pyrometer_run, run_env, spans, wait_spans
from services import AppProcess, Redis, free_port, venv_bin
from test_celery import Worker

APPS = str(Path(__file__).parent / "apps")


@pytest.fixture
def system(otlp_receiver: OtlpReceiver, redis_server: Redis) -> Iterator[str]:
    redis.Redis(port=redis_server.port).flushall()  # no task left over by another test
    broker = {"BROKER_URL": redis_server.url, "PYTHONPATH": APPS}
    worker = Worker(pyrometer_run(venv_bin("celery"), "-A", "celery_app", "worker",
                                  "--pool=solo", "-Q", "shop", "--loglevel=INFO"),
                    run_env(otlp_receiver, "worker", **broker))  # fmt: skip
    orders_port, gateway_port = free_port(), free_port()
    orders = AppProcess(
        pyrometer_run(venv_bin("gunicorn"), "-b", f"127.0.0.1:{orders_port}", "-w", "1",
                      "--chdir", APPS, "django_project.wsgi"),
        orders_port,
        env=run_env(otlp_receiver, "orders", DJANGO_SETTINGS_MODULE="django_project.settings",
                    **broker),
    )  # fmt: skip
    gateway = AppProcess(
        pyrometer_run(venv_bin("uvicorn"), "--host", "127.0.0.1", "--port", str(gateway_port),
                      "--app-dir", APPS, "gateway:app"),
        gateway_port,
        env=run_env(otlp_receiver, "gateway", ORDERS_URL=orders.base),
    )  # fmt: skip
    try:
        yield gateway.base
    finally:
        gateway.stop()
        orders.stop()
        worker.stop()


def test_one_trace_across_four_processes(system: str, otlp_receiver: OtlpReceiver) -> None:
    r = requests.get(system + "/checkout/41")
    assert r.status_code == 200 and r.json()["order"]["order_id"] == 41

    def complete(ss: list) -> bool:
        # Every service's span: the four processes export on their own schedules.
        roots = {s.trace_id for s in ss if s.name == "GET /checkout/{order_id}"}
        names = {s.name for s in ss if s.trace_id in roots}
        return {"GET /orders/<int:order_id>/", "send shop.add", "process shop.add"} <= names

    got = wait_spans(otlp_receiver, complete)
    by_name = {s.name: s for s in got}
    gateway = by_name["GET /checkout/{order_id}"]
    call = next(s for s in got if s.kind == "client" and s.name == "GET")
    orders = by_name["GET /orders/<int:order_id>/"]
    send = by_name["send shop.add"]
    process = by_name["process shop.add"]
    assert gateway.kind == "server" and gateway.parent_id is None
    assert call.parent_id == gateway.span_id
    assert orders.kind == "server" and orders.parent_id == call.span_id
    assert send.kind == "producer" and send.parent_id == orders.span_id
    assert process.kind == "consumer" and process.parent_id == send.span_id
    trace = {s.trace_id for s in (gateway, call, orders, send, process)}
    assert trace == {gateway.trace_id}
    services = {s.span_id: res["service.name"] for res, s in spans(otlp_receiver)}
    assert [services[s.span_id] for s in (gateway, call, orders, send, process)] == [
        "gateway", "gateway", "orders", "orders", "worker"]  # fmt: skip
    resources = {s.span_id: res for res, s in spans(otlp_receiver)}
    assert resources[gateway.span_id]["process.pid"] == r.json()["pid"]  # uvicorn worker data
    assert resources[gateway.span_id]["pyrometer.worker.kind"] == "uvicorn"
    assert call.attributes["url.full"].endswith("/orders/41/")
    assert process.attributes["celery.state"] == "SUCCESS"


def test_error_crosses_services(system: str, otlp_receiver: OtlpReceiver) -> None:
    assert requests.get(system + "/checkout/0").status_code == 500

    def failed_traces(ss: list) -> set[str]:
        return {
            s.trace_id for s in ss if s.name == "GET /checkout/{order_id}" and s.status == "error"
        }

    def complete(ss: list) -> bool:
        # The three services export on their own timers: wait for every span the test reads.
        failed = failed_traces(ss)
        names = {s.name for s in ss if s.trace_id in failed}
        client = any(s.kind == "client" and s.trace_id in failed for s in ss)
        return client and "GET /orders/<int:order_id>/" in names

    got = wait_spans(otlp_receiver, complete)
    failed = failed_traces(got)
    orders = next(
        s for s in got if s.name == "GET /orders/<int:order_id>/" and s.trace_id in failed
    )
    call = next(s for s in got if s.kind == "client" and s.span_id == orders.parent_id)
    gateway = next(s for s in got if s.span_id == call.parent_id)
    assert orders.status == "error" and orders.attributes["http.response.status_code"] == 500
    assert orders.attributes["error.type"] == "ZeroDivisionError"
    frame = [f for f in orders.frames() if f["in_app"]][-1]
    assert frame["function"] == "order" and frame["locals"]["order_id"] == "0"
    assert call.status == "error" and call.attributes["error.type"] == "500"
    assert gateway.status == "error" and gateway.attributes["http.response.status_code"] == 500
    assert not any(s.kind == "producer" for s in got)  # the view failed before publishing
