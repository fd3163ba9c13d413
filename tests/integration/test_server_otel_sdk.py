"""The official OpenTelemetry Python SDK sends to pyrometer-server unchanged; data reads back.

Traces go through the SDK's OTLP/HTTP protobuf exporter and, for JSON, through the SDK's own
encoder rendered with ``MessageToJson`` (ids converted to hex as the OTLP JSON mapping requires).
"""

from __future__ import annotations

import base64
import json
import logging
import re
from typing import Any

import pytest
import requests
from google.protobuf.json_format import MessageToJson
from opentelemetry import trace as trace_api
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricExportResult
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode
from pyrometer_server import PyrometerServer

_ID_FIELDS = {"traceId", "spanId", "parentSpanId"}


def _make_trace(provider: TracerProvider, service: str) -> int:
    """Records a server span with a client child (attributes, event, error status)."""
    tracer = provider.get_tracer("pyrometer.tests", "1.0")
    with tracer.start_as_current_span("GET /users/{id}", kind=SpanKind.SERVER) as root:
        root.set_attribute("http.request.method", "GET")
        root.set_attribute("http.route", "/users/{id}")
        root.set_attribute("http.response.status_code", 500)
        with tracer.start_as_current_span("SELECT users", kind=SpanKind.CLIENT) as child:
            child.set_attribute("db.system", "postgresql")
            child.add_event("retry", {"attempt": 2})
        root.set_status(Status(StatusCode.ERROR, "boom"))
        trace_id: int = root.get_span_context().trace_id
    return trace_id


def _read_trace(server: PyrometerServer, trace_id: int) -> dict[str, Any]:
    resp = requests.get(f"{server.url}/api/v1/traces/{trace_id:032x}", timeout=10)
    assert resp.status_code == 200, resp.text
    result: dict[str, Any] = resp.json()
    return result


def _check_trace(doc: dict[str, Any], trace_id: int, service: str) -> None:
    assert doc["trace_id"] == f"{trace_id:032x}"
    spans = {s["name"]: s for s in doc["spans"]}
    assert set(spans) == {"GET /users/{id}", "SELECT users"}
    root, child = spans["GET /users/{id}"], spans["SELECT users"]
    assert root["service"] == service and child["service"] == service
    assert root["kind"] == "server" and child["kind"] == "client"
    assert root["parent_span_id"] == ""
    assert child["parent_span_id"] == root["span_id"]
    assert root["attributes"]["http.route"] == "/users/{id}"
    assert root["attributes"]["http.response.status_code"] == 500
    assert root["status"] == {"code": "error", "message": "boom"}
    assert root["resource"]["service.name"] == service
    assert child["events"][0]["name"] == "retry"
    assert child["events"][0]["attributes"] == {"attempt": 2}
    assert root["end_unix_nano"] - root["start_unix_nano"] == root["duration_ns"] >= 0


def test_sdk_protobuf_exporter_spans_read_back(pyrometer_server: PyrometerServer) -> None:
    exporter = OTLPSpanExporter(endpoint=f"{pyrometer_server.url}/v1/traces")
    results: list[SpanExportResult] = []

    class Recording(SimpleSpanProcessor):
        def on_end(self, span: Any) -> None:
            results.append(self.span_exporter.export((span,)))

    provider = TracerProvider(resource=Resource.create({"service.name": "sdk-protobuf"}))
    provider.add_span_processor(Recording(exporter))
    trace_id = _make_trace(provider, "sdk-protobuf")
    provider.shutdown()
    assert results == [SpanExportResult.SUCCESS, SpanExportResult.SUCCESS]
    _check_trace(_read_trace(pyrometer_server, trace_id), trace_id, "sdk-protobuf")


def _ids_to_hex(node: Any) -> Any:
    """proto3 JSON renders bytes as base64; OTLP JSON wants trace/span ids as hex."""
    if isinstance(node, dict):
        return {
            k: base64.b64decode(v).hex()
            if k in _ID_FIELDS and isinstance(v, str)
            else _ids_to_hex(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_ids_to_hex(v) for v in node]
    return node


def test_sdk_spans_as_otlp_json_read_back(pyrometer_server: PyrometerServer) -> None:
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "sdk-json"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    trace_id = _make_trace(provider, "sdk-json")
    provider.shutdown()
    message = encode_spans(memory.get_finished_spans())
    body = json.dumps(_ids_to_hex(json.loads(MessageToJson(message))))
    assert f"{trace_id:032x}" in body
    resp = requests.post(
        f"{pyrometer_server.url}/v1/traces",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"] == "application/json"
    assert resp.json() == {}
    _check_trace(_read_trace(pyrometer_server, trace_id), trace_id, "sdk-json")


# The SDK's LoggingHandler is what most apps still use; its deprecation is not ours to test.
@pytest.mark.filterwarnings("ignore:.*LoggingHandler.*:DeprecationWarning")
def test_sdk_log_exporter_logs_read_back_by_trace_id(pyrometer_server: PyrometerServer) -> None:
    logger_provider = LoggerProvider(resource=Resource.create({"service.name": "sdk-logs"}))
    logger_provider.add_log_record_processor(
        SimpleLogRecordProcessor(OTLPLogExporter(endpoint=f"{pyrometer_server.url}/v1/logs"))
    )
    handler = LoggingHandler(level=logging.INFO, logger_provider=logger_provider)
    log = logging.getLogger("pyrometer.tests.sdk_logs")
    log.propagate = False
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    tracer = TracerProvider().get_tracer("t")
    try:
        with tracer.start_as_current_span("work") as span:
            trace_id = span.get_span_context().trace_id
            log.warning("payment declined for order %s", 42)
    finally:
        log.removeHandler(handler)
        logger_provider.shutdown()
    assert trace_api.INVALID_TRACE_ID != trace_id
    resp = requests.get(
        f"{pyrometer_server.url}/api/v1/logs",
        params={"trace_id": f"{trace_id:032x}"},
        timeout=10,
    )
    assert resp.status_code == 200, resp.text
    logs = resp.json()["logs"]
    assert len(logs) == 1
    assert logs[0]["body"] == "payment declined for order 42"
    assert logs[0]["severity_text"] == "WARN" or logs[0]["severity_text"] == "WARNING"
    assert logs[0]["severity_number"] == 13
    assert logs[0]["trace_id"] == f"{trace_id:032x}"
    assert logs[0]["service"] == "sdk-logs"
    by_service = requests.get(
        f"{pyrometer_server.url}/api/v1/logs", params={"service": "sdk-logs"}, timeout=10
    ).json()["logs"]
    assert [entry["body"] for entry in by_service] == ["payment declined for order 42"]


def test_sdk_metric_exporter_is_accepted(pyrometer_server: PyrometerServer) -> None:
    reader = InMemoryMetricReader()
    provider = MeterProvider(
        resource=Resource.create({"service.name": "sdk-metrics"}), metric_readers=[reader]
    )
    meter = provider.get_meter("pyrometer.tests")
    meter.create_counter("orders", unit="1").add(3, {"region": "eu"})
    meter.create_histogram("latency", unit="s").record(0.25)
    data = reader.get_metrics_data()
    provider.shutdown()
    exporter = OTLPMetricExporter(endpoint=f"{pyrometer_server.url}/v1/metrics")
    assert exporter.export(data) == MetricExportResult.SUCCESS
    text = requests.get(f"{pyrometer_server.url}/metrics", timeout=10).text
    accepted = re.search(
        r'^pyrometer_server_ingest_items_accepted_total\{signal="metrics"\} (\d+)$', text, re.M
    )
    assert accepted is not None and int(accepted.group(1)) == 2
