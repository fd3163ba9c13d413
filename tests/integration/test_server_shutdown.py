"""SIGTERM drains in-flight requests, flushes the store and exits 0; the data survives restart."""

from __future__ import annotations

import threading
import time

import requests
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from pyrometer_server import PyrometerServer

PROTOBUF = {"Content-Type": "application/x-protobuf"}


def trace_request(trace_no: int, spans: int = 5) -> bytes:
    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    kv = rs.resource.attributes.add()
    kv.key, kv.value.string_value = "service.name", "shutdown-test"
    scope = rs.scope_spans.add()
    for i in range(spans):
        span = scope.spans.add()
        span.trace_id = trace_no.to_bytes(16, "big")
        span.span_id = (trace_no * 100 + i + 1).to_bytes(8, "big")
        span.name = f"op-{i}"
        span.start_time_unix_nano = 1_700_000_000_000_000_000 + i
        span.end_time_unix_nano = 1_700_000_000_000_000_000 + i + 1000
    return req.SerializeToString()


def span_count(server: PyrometerServer, trace_no: int) -> int:
    resp = requests.get(f"{server.url}/api/v1/traces/{trace_no:032x}", timeout=10)
    if resp.status_code == 404:
        return 0
    assert resp.status_code == 200, resp.text
    return len(resp.json()["spans"])


def test_sigterm_exits_zero_and_data_survives(pyrometer_server: PyrometerServer) -> None:
    for n in range(1, 21):
        resp = requests.post(
            pyrometer_server.url + "/v1/traces", data=trace_request(n), headers=PROTOBUF, timeout=10
        )
        assert resp.status_code == 200
    assert pyrometer_server.restart() == 0
    assert [span_count(pyrometer_server, n) for n in range(1, 21)] == [5] * 20


def test_sigterm_during_ingest_keeps_every_acknowledged_request(
    pyrometer_server: PyrometerServer,
) -> None:
    acked: list[int] = []
    stop = threading.Event()

    def sender(first: int) -> None:
        session = requests.Session()
        n = first
        while not stop.is_set():
            try:
                resp = session.post(
                    pyrometer_server.url + "/v1/traces",
                    data=trace_request(n),
                    headers=PROTOBUF,
                    timeout=10,
                )
            except requests.ConnectionError:
                return  # the server is gone: nothing more can be acknowledged
            if resp.status_code == 200:
                acked.append(n)
            n += 1

    threads = [threading.Thread(target=sender, args=(k * 1_000_000 + 1,)) for k in range(3)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30  # SIGTERM once ingest is under way: a few acknowledged
    while len(acked) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    code = pyrometer_server.stop()
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert code == 0
    assert acked, "no request was acknowledged before SIGTERM"
    pyrometer_server.start()
    missing = [n for n in acked if span_count(pyrometer_server, n) != 5]
    assert missing == []
