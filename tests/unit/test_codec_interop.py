"""Interoperability of the C++ protobuf codecs with the official implementations.

Our encoder's payloads are parsed by `opentelemetry-proto` (and protoc-generated pprof
classes) field for field; payloads from the OpenTelemetry Python SDK are decoded by ours.
The C++ side runs through the test-only `otlp_tool` program built beside the library.
"""

from __future__ import annotations

import gzip
import http.server
import importlib.util
import json
import math
import os
import subprocess
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterator

import pytest
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"
TOOL_ENV = "PYROMETER_OTLP_TOOL"


# ---- running the C++ codec ---------------------------------------------------------------


@pytest.fixture(scope="module")
def otlp_tool() -> Path:
    override = os.environ.get(TOOL_ENV)
    candidates = [Path(override)] if override else []
    candidates += [ROOT / "build" / "py" / "native" / "common" / "otlp_tool"]
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return path
    pytest.fail(
        f"otlp_tool not found (looked in {[str(c) for c in candidates]}); run `make build` "
        f"or set {TOOL_ENV} to the built program"
    )


def tool_encode_sample(tool: Path, kind: str) -> bytes:
    done = subprocess.run([str(tool), "encode-sample", kind], capture_output=True, check=True)
    assert done.stdout, f"empty {kind} sample"
    return done.stdout


def tool_decode(tool: Path, kind: str, payload: bytes) -> dict[str, Any]:
    done = subprocess.run([str(tool), "decode", kind], input=payload, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout)


# ---- canonical form of the official messages (mirrors otlp_json_dump.cc) -------------------


def dbl(x: float) -> Any:
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x


def any_value(v: Any) -> dict[str, Any]:
    kind = v.WhichOneof("value")
    if kind is None:
        return {}
    if kind == "array_value":
        return {"array_value": [any_value(e) for e in v.array_value.values]}
    if kind == "kvlist_value":
        return {"kvlist_value": key_values(v.kvlist_value.values)}
    if kind == "bytes_value":
        return {"bytes_value": v.bytes_value.hex()}
    if kind == "double_value":
        return {"double_value": dbl(v.double_value)}
    return {kind: getattr(v, kind)}


def key_values(kvs: Any) -> list[dict[str, Any]]:
    return [{"key": kv.key, "value": any_value(kv.value)} for kv in kvs]


def resource(r: Any) -> dict[str, Any]:
    return {
        "attributes": key_values(r.attributes),
        "dropped_attributes_count": r.dropped_attributes_count,
    }


def scope(s: Any) -> dict[str, Any]:
    return {
        "name": s.name,
        "version": s.version,
        "attributes": key_values(s.attributes),
        "dropped_attributes_count": s.dropped_attributes_count,
    }


def span(s: Any) -> dict[str, Any]:
    return {
        "trace_id": s.trace_id.hex(),
        "span_id": s.span_id.hex(),
        "trace_state": s.trace_state,
        "parent_span_id": s.parent_span_id.hex(),
        "flags": s.flags,
        "name": s.name,
        "kind": s.kind,
        "start_time_unix_nano": s.start_time_unix_nano,
        "end_time_unix_nano": s.end_time_unix_nano,
        "attributes": key_values(s.attributes),
        "dropped_attributes_count": s.dropped_attributes_count,
        "events": [
            {
                "time_unix_nano": e.time_unix_nano,
                "name": e.name,
                "attributes": key_values(e.attributes),
                "dropped_attributes_count": e.dropped_attributes_count,
            }
            for e in s.events
        ],
        "dropped_events_count": s.dropped_events_count,
        "links": [
            {
                "trace_id": link.trace_id.hex(),
                "span_id": link.span_id.hex(),
                "trace_state": link.trace_state,
                "attributes": key_values(link.attributes),
                "dropped_attributes_count": link.dropped_attributes_count,
                "flags": link.flags,
            }
            for link in s.links
        ],
        "dropped_links_count": s.dropped_links_count,
        "status": {"message": s.status.message, "code": s.status.code},
    }


def canon_traces(req: Any) -> dict[str, Any]:
    return {
        "resource_spans": [
            {
                "resource": resource(rs.resource),
                "scope_spans": [
                    {
                        "scope": scope(ss.scope),
                        "spans": [span(s) for s in ss.spans],
                        "schema_url": ss.schema_url,
                    }
                    for ss in rs.scope_spans
                ],
                "schema_url": rs.schema_url,
            }
            for rs in req.resource_spans
        ]
    }


def exemplars(es: Any) -> list[dict[str, Any]]:
    out = []
    for e in es:
        d: dict[str, Any] = {
            "filtered_attributes": key_values(e.filtered_attributes),
            "time_unix_nano": e.time_unix_nano,
        }
        if e.WhichOneof("value") == "as_int":
            d["as_int"] = e.as_int
        else:
            d["as_double"] = dbl(e.as_double)
        d["span_id"] = e.span_id.hex()
        d["trace_id"] = e.trace_id.hex()
        out.append(d)
    return out


def number_point(p: Any) -> dict[str, Any]:
    d: dict[str, Any] = {
        "attributes": key_values(p.attributes),
        "start_time_unix_nano": p.start_time_unix_nano,
        "time_unix_nano": p.time_unix_nano,
    }
    if p.WhichOneof("value") == "as_int":
        d["as_int"] = p.as_int
    else:
        d["as_double"] = dbl(p.as_double)
    d["exemplars"] = exemplars(p.exemplars)
    d["flags"] = p.flags
    return d


def opt(p: Any, name: str) -> Any:
    return dbl(getattr(p, name)) if p.HasField(name) else "unset"


def histogram_point(p: Any) -> dict[str, Any]:
    return {
        "attributes": key_values(p.attributes),
        "start_time_unix_nano": p.start_time_unix_nano,
        "time_unix_nano": p.time_unix_nano,
        "count": p.count,
        "sum": opt(p, "sum"),
        "bucket_counts": list(p.bucket_counts),
        "explicit_bounds": [dbl(b) for b in p.explicit_bounds],
        "exemplars": exemplars(p.exemplars),
        "flags": p.flags,
        "min": opt(p, "min"),
        "max": opt(p, "max"),
    }


def exp_point(p: Any) -> dict[str, Any]:
    def buckets(b: Any) -> dict[str, Any]:
        return {"offset": b.offset, "bucket_counts": list(b.bucket_counts)}

    return {
        "attributes": key_values(p.attributes),
        "start_time_unix_nano": p.start_time_unix_nano,
        "time_unix_nano": p.time_unix_nano,
        "count": p.count,
        "sum": opt(p, "sum"),
        "scale": p.scale,
        "zero_count": p.zero_count,
        "positive": buckets(p.positive),
        "negative": buckets(p.negative),
        "flags": p.flags,
        "exemplars": exemplars(p.exemplars),
        "min": opt(p, "min"),
        "max": opt(p, "max"),
        "zero_threshold": dbl(p.zero_threshold),
    }


def metric(m: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"name": m.name, "description": m.description, "unit": m.unit}
    kind = m.WhichOneof("data")
    if kind == "gauge":
        d["gauge"] = {"data_points": [number_point(p) for p in m.gauge.data_points]}
    elif kind == "sum":
        d["sum"] = {
            "data_points": [number_point(p) for p in m.sum.data_points],
            "aggregation_temporality": m.sum.aggregation_temporality,
            "is_monotonic": m.sum.is_monotonic,
        }
    elif kind == "histogram":
        d["histogram"] = {
            "data_points": [histogram_point(p) for p in m.histogram.data_points],
            "aggregation_temporality": m.histogram.aggregation_temporality,
        }
    elif kind == "exponential_histogram":
        eh = m.exponential_histogram
        d["exponential_histogram"] = {
            "data_points": [exp_point(p) for p in eh.data_points],
            "aggregation_temporality": eh.aggregation_temporality,
        }
    d["metadata"] = key_values(m.metadata)
    return d


def canon_metrics(req: Any) -> dict[str, Any]:
    return {
        "resource_metrics": [
            {
                "resource": resource(rm.resource),
                "scope_metrics": [
                    {
                        "scope": scope(sm.scope),
                        "metrics": [metric(m) for m in sm.metrics],
                        "schema_url": sm.schema_url,
                    }
                    for sm in rm.scope_metrics
                ],
                "schema_url": rm.schema_url,
            }
            for rm in req.resource_metrics
        ]
    }


def log_record(r: Any) -> dict[str, Any]:
    return {
        "time_unix_nano": r.time_unix_nano,
        "observed_time_unix_nano": r.observed_time_unix_nano,
        "severity_number": r.severity_number,
        "severity_text": r.severity_text,
        "body": any_value(r.body),
        "attributes": key_values(r.attributes),
        "dropped_attributes_count": r.dropped_attributes_count,
        "flags": r.flags,
        "trace_id": r.trace_id.hex(),
        "span_id": r.span_id.hex(),
        "event_name": r.event_name,
    }


def canon_logs(req: Any) -> dict[str, Any]:
    return {
        "resource_logs": [
            {
                "resource": resource(rl.resource),
                "scope_logs": [
                    {
                        "scope": scope(sl.scope),
                        "log_records": [log_record(r) for r in sl.log_records],
                        "schema_url": sl.schema_url,
                    }
                    for sl in rl.scope_logs
                ],
                "schema_url": rl.schema_url,
            }
            for rl in req.resource_logs
        ]
    }


def canon_profile(p: Any) -> dict[str, Any]:
    def vt(v: Any) -> dict[str, Any]:
        return {"type": v.type, "unit": v.unit}

    return {
        "sample_type": [vt(v) for v in p.sample_type],
        "sample": [
            {
                "location_id": list(s.location_id),
                "value": list(s.value),
                "label": [
                    {"key": lb.key, "str": lb.str, "num": lb.num, "num_unit": lb.num_unit}
                    for lb in s.label
                ],
            }
            for s in p.sample
        ],
        "mapping": [
            {
                "id": m.id,
                "memory_start": m.memory_start,
                "memory_limit": m.memory_limit,
                "file_offset": m.file_offset,
                "filename": m.filename,
                "build_id": m.build_id,
                "has_functions": m.has_functions,
                "has_filenames": m.has_filenames,
                "has_line_numbers": m.has_line_numbers,
                "has_inline_frames": m.has_inline_frames,
            }
            for m in p.mapping
        ],
        "location": [
            {
                "id": loc.id,
                "mapping_id": loc.mapping_id,
                "address": loc.address,
                "line": [
                    {"function_id": ln.function_id, "line": ln.line, "column": ln.column}
                    for ln in loc.line
                ],
                "is_folded": loc.is_folded,
            }
            for loc in p.location
        ],
        "function": [
            {
                "id": f.id,
                "name": f.name,
                "system_name": f.system_name,
                "filename": f.filename,
                "start_line": f.start_line,
            }
            for f in p.function
        ],
        "string_table": list(p.string_table),
        "drop_frames": p.drop_frames,
        "keep_frames": p.keep_frames,
        "time_nanos": p.time_nanos,
        "duration_nanos": p.duration_nanos,
        "period_type": vt(p.period_type),
        "period": p.period,
        "comment": list(p.comment),
        "default_sample_type": p.default_sample_type,
    }


# ---- our encoder -> official parser ------------------------------------------------------


SIGNALS: dict[str, tuple[type, Callable[[Any], dict[str, Any]]]] = {
    "traces": (ExportTraceServiceRequest, canon_traces),
    "metrics": (ExportMetricsServiceRequest, canon_metrics),
    "logs": (ExportLogsServiceRequest, canon_logs),
}


@pytest.mark.parametrize("kind", sorted(SIGNALS))
def test_our_encoding_parses_with_opentelemetry_proto_field_for_field(
    otlp_tool: Path, kind: str
) -> None:
    cls, canon = SIGNALS[kind]
    payload = tool_encode_sample(otlp_tool, kind)
    official = cls.FromString(payload)
    assert canon(official) == tool_decode(otlp_tool, kind, payload)
    # Same bytes as the reference serializer: same field numbers, wire types,
    # packing and default omission.
    assert official.SerializeToString() == payload


def test_our_trace_sample_has_the_expected_values_in_the_official_classes(
    otlp_tool: Path,
) -> None:
    req = ExportTraceServiceRequest.FromString(tool_encode_sample(otlp_tool, "traces"))
    s = req.resource_spans[0].scope_spans[0].spans[0]
    assert s.trace_id.hex() == "5b8efbf73a9d412c0011223344556677"
    assert s.span_id.hex() == "0102030405060708"
    assert s.name == "GET /orders/{id}"
    assert s.kind == 2 and s.flags == 0x301 and s.status.code == 2
    assert s.start_time_unix_nano == 1_700_000_000_123_456_789
    attrs = {kv.key: kv.value for kv in s.attributes}
    assert attrs["int"].int_value == -42 and attrs["double"].double_value == 3.25
    assert attrs["empty_array"].WhichOneof("value") == "array_value"
    assert list(attrs["array"].array_value.values)[3].array_value.values[0].double_value == -0.5
    assert attrs["bytes"].bytes_value == b"\x00\xff\x10"


def test_our_metric_sample_has_the_expected_values_in_the_official_classes(
    otlp_tool: Path,
) -> None:
    req = ExportMetricsServiceRequest.FromString(tool_encode_sample(otlp_tool, "metrics"))
    metrics = {m.name: m for m in req.resource_metrics[0].scope_metrics[0].metrics}
    gauge = metrics["process.memory.rss"].gauge.data_points
    assert gauge[0].as_int == -1234567890123 and gauge[1].WhichOneof("value") == "as_double"
    hist = metrics["http.server.request.duration"].histogram.data_points[0]
    assert list(hist.bucket_counts) == [1, 0, 3, 2]
    assert list(hist.explicit_bounds) == [0.005, 0.1, 2.5]
    assert hist.sum == 1.75 and hist.min == 0.001 and hist.max == 9.5
    exp = metrics["pyrometer.red.duration"].exponential_histogram.data_points[0]
    assert (exp.scale, exp.positive.offset, list(exp.positive.bucket_counts)) == (
        -3,
        -5,
        [1, 2, 0, 300],
    )
    assert exp.exemplars[0].as_int == -17


# ---- official SDK -> our decoder ---------------------------------------------------------


def sdk_spans() -> list[Any]:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import Link, SpanKind, Status, StatusCode

    exporter = InMemorySpanExporter()
    provider = TracerProvider(
        resource=Resource.create({"service.name": "interop", "deployment.environment": "test"})
    )
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("interop.scope", "9.9.9", attributes={"scope.k": "v"})
    with tracer.start_as_current_span(
        "GET /users/{id}",
        kind=SpanKind.SERVER,
        attributes={
            "http.request.method": "GET",
            "http.route": "/users/{id}",
            "http.response.status_code": 500,
            "server.address": "example.internal",
            "sampled.ratio": 0.25,
            "feature.on": True,
            "tags": ["a", "b"],
            "codes": [1, 2, 3],
        },
    ) as root:
        with tracer.start_as_current_span(
            "SELECT users",
            kind=SpanKind.CLIENT,
            attributes={"db.system": "postgresql", "db.query.text": "SELECT * FROM users"},
            links=[Link(root.get_span_context(), {"link.reason": "retry"})],
        ) as child:
            child.add_event("cache.miss", {"cache.key": "user:1"})
        root.set_status(Status(StatusCode.ERROR, "upstream failed"))
        root.record_exception(ValueError("bad id"))
    provider.shutdown()
    return list(exporter.get_finished_spans())


def test_sdk_trace_export_decodes_field_for_field(otlp_tool: Path) -> None:
    spans = sdk_spans()
    request = encode_spans(spans)
    decoded = tool_decode(otlp_tool, "traces", request.SerializeToString())
    assert decoded == canon_traces(request)
    # And against the SDK's own span objects.
    ours = [s for rs in decoded["resource_spans"] for ss in rs["scope_spans"] for s in ss["spans"]]
    assert len(ours) == len(spans)
    by_id = {s["span_id"]: s for s in ours}
    for sdk in spans:
        d = by_id[format(sdk.context.span_id, "016x")]
        assert d["trace_id"] == format(sdk.context.trace_id, "032x")
        assert d["name"] == sdk.name
        assert d["kind"] == sdk.kind.value + 1  # SDK enum starts at INTERNAL=0
        assert d["start_time_unix_nano"] == sdk.start_time
        assert d["end_time_unix_nano"] == sdk.end_time
        parent = format(sdk.parent.span_id, "016x") if sdk.parent else ""
        assert d["parent_span_id"] == parent
        assert [e["name"] for e in d["events"]] == [e.name for e in sdk.events]
        assert len(d["links"]) == len(sdk.links)
        assert d["status"]["code"] == sdk.status.status_code.value
        attrs = {kv["key"]: kv["value"] for kv in d["attributes"]}
        for key, value in sdk.attributes.items():
            assert attrs[key] == python_value(value), key
    root = next(s for s in ours if s["name"] == "GET /users/{id}")
    assert root["status"] == {"message": "upstream failed", "code": 2}
    assert root["events"][0]["name"] == "exception"


def python_value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"bool_value": value}
    if isinstance(value, int):
        return {"int_value": value}
    if isinstance(value, float):
        return {"double_value": value}
    if isinstance(value, str):
        return {"string_value": value}
    return {"array_value": [python_value(v) for v in value]}


def sdk_metrics() -> Any:
    from opentelemetry.metrics import Observation
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.metrics.view import (
        ExponentialBucketHistogramAggregation,
        View,
    )
    from opentelemetry.sdk.resources import Resource

    reader = InMemoryMetricReader()
    provider = MeterProvider(
        resource=Resource.create({"service.name": "interop"}),
        metric_readers=[reader],
        views=[
            View(
                instrument_name="red.duration", aggregation=ExponentialBucketHistogramAggregation()
            )
        ],
    )
    meter = provider.get_meter("interop.meter", "1.0")
    counter = meter.create_counter("requests", unit="{request}", description="served")
    counter.add(3, {"route": "/a"})
    counter.add(4, {"route": "/b"})
    updown = meter.create_up_down_counter("inflight")
    updown.add(-2)
    hist = meter.create_histogram("http.server.request.duration", unit="s")
    for v in (0.003, 0.02, 0.4, 7.0):
        hist.record(v, {"http.route": "/a"})
    exp = meter.create_histogram("red.duration", unit="s")
    for v in (0.001, 0.5, 0.5, 3.0, 120.0):
        exp.record(v)
    meter.create_observable_gauge("rss", callbacks=[lambda options: [Observation(1.5)]])
    data = reader.get_metrics_data()
    provider.shutdown()
    return data


def test_sdk_metrics_export_decodes_field_for_field(otlp_tool: Path) -> None:
    data = sdk_metrics()
    request = encode_metrics(data)
    decoded = tool_decode(otlp_tool, "metrics", request.SerializeToString())
    assert decoded == canon_metrics(request)
    sdk_metrics_by_name = {
        m.name: m for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics
    }
    ours = {
        m["name"]: m
        for rm in decoded["resource_metrics"]
        for sm in rm["scope_metrics"]
        for m in sm["metrics"]
    }
    assert set(ours) == set(sdk_metrics_by_name)
    counts = {
        p["attributes"][0]["value"]["string_value"]: p["as_int"]
        for p in ours["requests"]["sum"]["data_points"]
    }
    assert counts == {"/a": 3, "/b": 4}
    assert ours["requests"]["sum"]["is_monotonic"] is True
    assert ours["inflight"]["sum"]["is_monotonic"] is False
    hist_sdk = sdk_metrics_by_name["http.server.request.duration"].data.data_points[0]
    hist = ours["http.server.request.duration"]["histogram"]["data_points"][0]
    assert hist["bucket_counts"] == list(hist_sdk.bucket_counts)
    assert hist["explicit_bounds"] == list(hist_sdk.explicit_bounds)
    assert (hist["count"], hist["sum"], hist["min"], hist["max"]) == (
        hist_sdk.count,
        hist_sdk.sum,
        hist_sdk.min,
        hist_sdk.max,
    )
    exp_sdk = sdk_metrics_by_name["red.duration"].data.data_points[0]
    exp = ours["red.duration"]["exponential_histogram"]["data_points"][0]
    assert exp["scale"] == exp_sdk.scale
    assert exp["positive"]["offset"] == exp_sdk.positive.offset
    assert exp["positive"]["bucket_counts"] == list(exp_sdk.positive.bucket_counts)
    assert exp["zero_count"] == exp_sdk.zero_count
    assert ours["rss"]["gauge"]["data_points"][0]["as_double"] == 1.5


def test_sdk_logs_export_decodes_field_for_field(otlp_tool: Path) -> None:
    from opentelemetry._logs import SeverityNumber
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import (
        InMemoryLogRecordExporter,
        SimpleLogRecordProcessor,
    )
    from opentelemetry.sdk.resources import Resource

    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=Resource.create({"service.name": "interop"}))
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = provider.get_logger("interop.logs", "2.0")
    logger.emit(
        timestamp=1_700_000_000_000_000_001,
        observed_timestamp=1_700_000_000_000_000_002,
        severity_number=SeverityNumber.WARN,
        severity_text="WARN",
        body="disk /var is 91% full",
        attributes={"disk.device": "sda", "disk.used": 0.91},
    )
    logger.emit(
        severity_number=SeverityNumber.ERROR,
        body={"finding": "n_plus_one", "count": 12, "queries": ["SELECT 1", "SELECT 2"]},
        event_name="pyrometer.insight",
    )
    logger.emit(body=b"\x00\x01raw")
    provider.shutdown()
    batch = exporter.get_finished_logs()
    request = encode_logs(batch)
    decoded = tool_decode(otlp_tool, "logs", request.SerializeToString())
    assert decoded == canon_logs(request)
    records = [
        r for rl in decoded["resource_logs"] for sl in rl["scope_logs"] for r in sl["log_records"]
    ]
    assert len(records) == len(batch) == 3
    first, insight, raw = records
    assert first["body"] == {"string_value": "disk /var is 91% full"}
    assert (first["time_unix_nano"], first["observed_time_unix_nano"]) == (
        1_700_000_000_000_000_001,
        1_700_000_000_000_000_002,
    )
    assert (first["severity_number"], first["severity_text"]) == (13, "WARN")
    assert {"key": "disk.used", "value": {"double_value": 0.91}} in first["attributes"]
    assert insight["event_name"] == "pyrometer.insight"
    assert insight["body"]["kvlist_value"][1] == {"key": "count", "value": {"int_value": 12}}
    assert raw["body"] == {"bytes_value": "0001726177"}


class _CaptureHandler(http.server.BaseHTTPRequestHandler):
    bodies: list[tuple[str, dict[str, str], bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        headers = {k.lower(): v for k, v in self.headers.items()}
        type(self).bodies.append((self.path, headers, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@pytest.fixture()
def capture_server() -> Iterator[tuple[str, list[tuple[str, dict[str, str], bytes]]]]:
    bodies: list[tuple[str, dict[str, str], bytes]] = []
    handler = type("Handler", (_CaptureHandler,), {"bodies": bodies})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", bodies
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_real_otlp_http_exporter_body_decodes(
    otlp_tool: Path, capture_server: tuple[str, list[tuple[str, dict[str, str], bytes]]]
) -> None:
    from opentelemetry.exporter.otlp.proto.http import Compression
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    base, bodies = capture_server
    spans = sdk_spans()
    exporter = OTLPSpanExporter(endpoint=f"{base}/v1/traces", compression=Compression.Gzip)
    try:
        exporter.export(spans)
    finally:
        exporter.shutdown()
    assert len(bodies) == 1
    path, headers, body = bodies[0]
    assert path == "/v1/traces"
    assert headers.get("content-type") == "application/x-protobuf"
    assert headers.get("content-encoding") == "gzip"
    raw = gzip.decompress(body)
    decoded = tool_decode(otlp_tool, "traces", raw)
    assert decoded == canon_traces(ExportTraceServiceRequest.FromString(raw))
    names = sorted(
        s["name"]
        for rs in decoded["resource_spans"]
        for ss in rs["scope_spans"]
        for s in ss["spans"]
    )
    assert names == sorted(s.name for s in spans)


def test_malformed_payload_is_rejected_by_the_tool(otlp_tool: Path) -> None:
    payload = tool_encode_sample(otlp_tool, "traces")
    done = subprocess.run(
        [str(otlp_tool), "decode", "traces"], input=payload[:-3], capture_output=True
    )
    assert done.returncode == 1
    assert b"ExportTraceServiceRequest" in done.stderr


# ---- pprof -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def profile_pb2(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    out = tmp_path_factory.mktemp("pprof_pb2")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{DATA}",
            f"--python_out={out}",
            str(DATA / "profile.proto"),
        ],
        check=True,
    )
    spec = importlib.util.spec_from_file_location(
        "pyrometer_test_profile_pb2", out / "profile_pb2.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_our_pprof_parses_with_generated_classes(otlp_tool: Path, profile_pb2: ModuleType) -> None:
    payload = tool_encode_sample(otlp_tool, "pprof")
    official = profile_pb2.Profile.FromString(payload)
    assert canon_profile(official) == tool_decode(otlp_tool, "pprof", payload)
    assert official.SerializeToString() == payload
    names = [official.string_table[f.name] for f in official.function]
    assert names == ["handle_request", "query_db"]
    assert [ln.column for ln in official.location[0].line] == [4, 0]


def test_python_built_pprof_decodes_gzipped_and_plain(
    otlp_tool: Path, profile_pb2: ModuleType
) -> None:
    p = profile_pb2.Profile()
    p.string_table.extend(["", "cpu", "nanoseconds", "main", "app.py", "thread", "worker-1"])
    p.sample_type.add(type=1, unit=2)
    p.period_type.type, p.period_type.unit, p.period = 1, 2, 10_000_000
    p.time_nanos, p.duration_nanos = 1_700_000_000_000_000_000, 5_000_000_000
    p.function.add(id=1, name=3, system_name=3, filename=4, start_line=1)
    p.location.add(id=1, address=0x1000).line.add(function_id=1, line=12, column=3)
    p.location.add(id=2).line.add(function_id=1, line=30)
    s = p.sample.add(location_id=[1, 2], value=[20_000_000])
    s.label.add(key=5, str=6)
    p.sample.add(location_id=[2], value=[-1]).label.add(key=5, num=7, num_unit=2)
    p.comment.append(3)
    plain = p.SerializeToString()
    for payload in (plain, gzip.compress(plain)):
        decoded = tool_decode(otlp_tool, "pprof", payload)
        assert decoded == canon_profile(p)


def test_pprof_with_bad_string_index_is_rejected(otlp_tool: Path, profile_pb2: ModuleType) -> None:
    p = profile_pb2.Profile()
    p.string_table.extend(["", "cpu"])
    p.sample_type.add(type=1, unit=9)
    done = subprocess.run(
        [str(otlp_tool), "decode", "pprof"], input=p.SerializeToString(), capture_output=True
    )
    assert done.returncode == 1
    assert b"sample_type[0].unit" in done.stderr
