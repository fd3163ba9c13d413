"""A real Prometheus (Debian's package) scrapes pyrometer-server's /metrics.

The server gets spans of a plain OTel SDK service with known routes, statuses and durations,
an RSS gauge and a Celery queue-depth gauge, all timestamped now; Prometheus scrapes every
second and its own query API must return the expected golden-signal series.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.metrics.v1 import metrics_pb2 as mpb
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status
from query_server import QueryServer, start_server, stop_server
from query_traffic import NS, kv, resource
from services import free_port, wait_port

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
# (route, status, duration seconds, how many): durations far from the classic bucket bounds.
REQUESTS = [("/items", 200, 0.02, 7), ("/items", 500, 0.2, 3), ("/orders", 200, 3.0, 4)]


def load(server: QueryServer) -> None:
    now = time.time_ns() - 5 * NS
    spans = []
    n = 0
    for route, status, dur, count in REQUESTS:
        for _ in range(count):
            n += 1
            spans.append(
                Span(
                    trace_id=n.to_bytes(16, "big"),
                    span_id=n.to_bytes(8, "big"),
                    name=f"GET {route}",
                    kind=Span.SPAN_KIND_SERVER,
                    start_time_unix_nano=now,
                    end_time_unix_nano=now + int(dur * NS),
                    attributes=[kv("http.route", route), kv("http.response.status_code", status)],
                    status=Status(code=2 if status >= 500 else 0),
                )
            )
    traces = ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource=resource("shop", "shop-1", "opentelemetry"),
                scope_spans=[ScopeSpans(spans=spans)],
            )
        ]
    )
    assert server.post("/v1/traces", traces.SerializeToString()) == 200
    rss = mpb.Metric(
        name="process.memory.usage",
        unit="By",
        gauge=mpb.Gauge(data_points=[mpb.NumberDataPoint(time_unix_nano=now, as_int=123_000_000)]),
    )
    metrics = ExportMetricsServiceRequest(
        resource_metrics=[
            mpb.ResourceMetrics(
                resource=resource("shop", "shop-1", "pyrometer"),
                scope_metrics=[mpb.ScopeMetrics(metrics=[rss])],
            )
        ]
    )
    assert server.post("/v1/metrics", metrics.SerializeToString()) == 200
    depth = mpb.Metric(
        name="pyrometer.celery.queue.depth",
        unit="{message}",
        gauge=mpb.Gauge(
            data_points=[
                mpb.NumberDataPoint(
                    time_unix_nano=now,
                    as_int=17,
                    attributes=[
                        kv("messaging.system", "celery"),
                        kv("messaging.destination.name", "emails"),
                    ],
                )
            ]
        ),
    )
    worker = ExportMetricsServiceRequest(
        resource_metrics=[
            mpb.ResourceMetrics(
                resource=resource("worker", "w-1", "pyrometer"),
                scope_metrics=[mpb.ScopeMetrics(metrics=[depth])],
            )
        ]
    )
    assert server.post("/v1/metrics", worker.SerializeToString()) == 200


@pytest.fixture(scope="module")
def prometheus() -> Iterator[tuple[QueryServer, str]]:
    server = start_server()
    d = tempfile.mkdtemp(prefix="pyrometer-prom-")
    port = free_port()
    config = Path(d) / "prometheus.yml"
    config.write_text(
        json.dumps(
            {
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "scrape_configs": [
                    {
                        "job_name": "pyrometer",
                        "metrics_path": "/metrics",
                        "static_configs": [{"targets": [f"127.0.0.1:{server.port}"]}],
                    }
                ],
            }
        )
    )
    log = open(Path(d) / "prometheus.log", "w")  # noqa: SIM115 (closed in finally)
    proc = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={config}",
            f"--storage.tsdb.path={d}/tsdb",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        load(server)
        wait_port(port, proc)
        wait_ready(f"http://127.0.0.1:{port}", proc)
        yield server, f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        stop_server(server)
        shutil.rmtree(d, ignore_errors=True)


def wait_ready(base: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    """Prometheus listens before its TSDB is open and answers 503 until /-/ready says 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"prometheus exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(base + "/-/ready", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:  # URLError/HTTPError (503 while starting) are OSErrors
            pass
        time.sleep(0.2)
    raise TimeoutError(f"prometheus at {base} not ready after {timeout}s")


def query(base: str, promql: str) -> list[dict[str, Any]]:
    url = base + "/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    with urllib.request.urlopen(url, timeout=10) as resp:
        body = json.loads(resp.read())
    assert body["status"] == "success", body
    return list(body["data"]["result"])


def wait_for(
    base: str, promql: str, want: dict[tuple[str, ...], float], labels: tuple[str, ...]
) -> None:
    """Polls until the query returns exactly `want` (labels → value); scrapes take seconds."""
    got: dict[tuple[str, ...], float] = {}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        got = {
            tuple(r["metric"].get(k, "") for k in labels): float(r["value"][1])
            for r in query(base, promql)
        }
        if got == want:
            return
        time.sleep(0.5)
    raise AssertionError(f"{promql}: got {got}, want {want}")


def test_requests_and_errors_per_route(prometheus: tuple[QueryServer, str]) -> None:
    _, base = prometheus
    totals: dict[tuple[str, ...], float] = {}
    errors: dict[tuple[str, ...], float] = {}
    for route, status, _, count in REQUESTS:
        totals[("shop", route)] = totals.get(("shop", route), 0) + count
        errors[("shop", route)] = errors.get(("shop", route), 0) + (count if status >= 500 else 0)
    labels = ("service", "route")
    wait_for(base, 'pyrometer_http_server_requests_total{job="pyrometer"}', totals, labels)
    wait_for(base, "pyrometer_http_server_errors_total", errors, labels)


def test_duration_histogram_has_classic_buckets(prometheus: tuple[QueryServer, str]) -> None:
    _, base = prometheus
    labels = ("route", "le")
    want = {
        ("/items", "0.025"): 7.0, ("/items", "0.25"): 10.0, ("/items", "2.5"): 10.0,
        ("/items", "5"): 10.0, ("/items", "+Inf"): 10.0,
        ("/orders", "0.025"): 0.0, ("/orders", "0.25"): 0.0, ("/orders", "2.5"): 0.0,
        ("/orders", "5"): 4.0, ("/orders", "+Inf"): 4.0,
    }  # fmt: skip
    wait_for(
        base,
        'pyrometer_http_server_request_duration_seconds_bucket{le=~"0.025|0.25|2.5|5|\\\\+Inf"}',
        want,
        labels,
    )
    orders = 'pyrometer_http_server_request_duration_seconds_bucket{route="/orders"}'
    (p,) = query(base, f"histogram_quantile(0.5, {orders})")
    assert 2.5 < float(p["value"][1]) <= 5
    wait_for(
        base,
        'pyrometer_http_server_request_duration_seconds_count{route="/orders"}',
        {("/orders",): 4.0},
        ("route",),
    )


def test_runtime_and_queue_gauges(prometheus: tuple[QueryServer, str]) -> None:
    _, base = prometheus
    wait_for(
        base,
        "pyrometer_process_resident_memory_bytes",
        {("shop", "shop-1"): 123e6},
        ("service", "service_instance"),
    )
    wait_for(
        base, "pyrometer_celery_queue_depth", {("worker", "emails"): 17.0}, ("service", "queue")
    )
