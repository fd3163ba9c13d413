"""Bad input gets a clear OTLP error and never takes pyrometer-server down (400/404/405/413/415)."""

from __future__ import annotations

import gzip
from typing import Callable

import requests
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from pyrometer_server import PyrometerServer

PROTOBUF = {"Content-Type": "application/x-protobuf"}
JSON = {"Content-Type": "application/json"}


def _valid_request() -> bytes:
    req = ExportTraceServiceRequest()
    span = req.resource_spans.add().scope_spans.add().spans.add()
    span.trace_id = bytes(range(1, 17))
    span.span_id = bytes(range(1, 9))
    span.name = "still-serving"
    span.start_time_unix_nano = 1_700_000_000_000_000_000
    span.end_time_unix_nano = 1_700_000_000_000_001_000
    return req.SerializeToString()


def _assert_still_serving(server: PyrometerServer) -> None:
    assert requests.get(server.url + "/healthz", timeout=5).text == "ok\n"
    resp = requests.post(
        server.url + "/v1/traces", data=_valid_request(), headers=PROTOBUF, timeout=5
    )
    assert resp.status_code == 200
    ExportTraceServiceResponse.FromString(resp.content)


def test_malformed_protobuf_is_400_with_rpc_status(pyrometer_server: PyrometerServer) -> None:
    for body in (b"\x0a\xff\xff\xff\xff", b"\xff" * 64, b"\x0a\x05abc"):
        resp = requests.post(
            pyrometer_server.url + "/v1/traces", data=body, headers=PROTOBUF, timeout=5
        )
        assert resp.status_code == 400
        assert resp.headers["Content-Type"] == "application/x-protobuf"
        status = status_pb2.Status.FromString(resp.content)
        assert status.code == 3  # INVALID_ARGUMENT
        assert "invalid OTLP protobuf ExportTraceServiceRequest" in status.message
    _assert_still_serving(pyrometer_server)


def test_malformed_json_is_400_with_message(pyrometer_server: PyrometerServer) -> None:
    cases = {
        "/v1/traces": b'{"resourceSpans": [',
        "/v1/logs": b'{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"traceId": "zz"}]}]}]}',
        "/v1/metrics": b'{"resourceMetrics": {}}',
    }
    for path, body in cases.items():
        resp = requests.post(pyrometer_server.url + path, data=body, headers=JSON, timeout=5)
        assert resp.status_code == 400, path
        error = resp.json()
        assert error["code"] == 3
        assert "invalid OTLP JSON" in error["message"]
    resp = requests.post(
        pyrometer_server.url + "/v1/logs", data=cases["/v1/logs"], headers=JSON, timeout=5
    )
    assert "logRecords[0].traceId" in resp.json()["message"]
    deep = b'{"a":' * 1000 + b"1" + b"}" * 1000
    resp = requests.post(pyrometer_server.url + "/v1/traces", data=deep, headers=JSON, timeout=5)
    assert resp.status_code == 400
    assert "nesting deeper" in resp.json()["message"]
    _assert_still_serving(pyrometer_server)


def test_unknown_content_type_is_415(pyrometer_server: PyrometerServer) -> None:
    resp = requests.post(
        pyrometer_server.url + "/v1/traces",
        data=b"x",
        headers={"Content-Type": "text/plain"},
        timeout=5,
    )
    assert resp.status_code == 415
    assert "unsupported content type" in resp.json()["message"]
    resp = requests.post(
        pyrometer_server.url + "/v1/traces",
        data=_valid_request(),
        headers={**PROTOBUF, "Content-Encoding": "br"},
        timeout=5,
    )
    assert resp.status_code == 415


def test_unknown_path_is_404_and_wrong_method_405(pyrometer_server: PyrometerServer) -> None:
    assert requests.get(pyrometer_server.url + "/nope", timeout=5).status_code == 404
    resp = requests.get(pyrometer_server.url + "/v1/traces", timeout=5)
    assert resp.status_code == 405
    assert resp.headers["Allow"] == "POST"
    assert requests.post(pyrometer_server.url + "/healthz", timeout=5).status_code == 405
    _assert_still_serving(pyrometer_server)


def test_gzip_bodies_are_accepted(pyrometer_server: PyrometerServer) -> None:
    resp = requests.post(
        pyrometer_server.url + "/v1/traces",
        data=gzip.compress(_valid_request()),
        headers={**PROTOBUF, "Content-Encoding": "gzip"},
        timeout=5,
    )
    assert resp.status_code == 200
    bad = requests.post(
        pyrometer_server.url + "/v1/traces",
        data=b"not gzip at all",
        headers={**PROTOBUF, "Content-Encoding": "gzip"},
        timeout=5,
    )
    assert bad.status_code == 400
    assert "gzip" in status_pb2.Status.FromString(bad.content).message


def test_oversized_bodies_are_413(
    pyrometer_server_factory: Callable[..., PyrometerServer],
) -> None:
    server = pyrometer_server_factory(args=["--max-body", "1MiB"])
    resp = requests.post(
        server.url + "/v1/traces", data=b"\0" * (2 << 20), headers=PROTOBUF, timeout=10
    )
    assert resp.status_code == 413
    # A gzip bomb: ~50 KB on the wire, 50 MiB once inflated.
    bomb = gzip.compress(b"\0" * (50 << 20), compresslevel=9)
    assert len(bomb) < 100_000
    resp = requests.post(
        server.url + "/v1/traces",
        data=bomb,
        headers={**PROTOBUF, "Content-Encoding": "gzip"},
        timeout=10,
    )
    assert resp.status_code == 413
    assert "exceeds" in status_pb2.Status.FromString(resp.content).message
    _assert_still_serving(server)
    metrics = requests.get(server.url + "/metrics", timeout=5).text
    assert 'pyrometer_server_http_requests_total{handler="traces",code="413"} 2' in metrics


def test_store_memory_bound_is_503_with_retry_after(
    pyrometer_server_factory: Callable[..., PyrometerServer],
) -> None:
    server = pyrometer_server_factory(args=["--max-memory", "64KiB"])
    refused = None
    for n in range(1, 500):
        req = ExportTraceServiceRequest()
        scope = req.resource_spans.add().scope_spans.add()
        for i in range(50):
            span = scope.spans.add()
            span.trace_id = n.to_bytes(16, "big")
            span.span_id = (i + 1).to_bytes(8, "big")
            span.name = "x" * 100
        resp = requests.post(
            server.url + "/v1/traces", data=req.SerializeToString(), headers=PROTOBUF, timeout=10
        )
        if resp.status_code != 200:
            refused = resp
            break
    assert refused is not None, "the memory bound never refused a request"
    assert refused.status_code == 503
    assert int(refused.headers["Retry-After"]) >= 1
    status = status_pb2.Status.FromString(refused.content)
    assert status.code == 14  # UNAVAILABLE: retryable
    assert "retry later" in status.message
    assert requests.get(server.url + "/healthz", timeout=5).status_code == 200
    metrics = requests.get(server.url + "/metrics", timeout=5).text
    assert 'pyrometer_server_ingest_requests_refused_total{signal="traces"} 1' in metrics
