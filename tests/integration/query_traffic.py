"""Deterministic, realistic traffic for the query API tests, as OTLP protobuf payloads.

Three services over ten whole minutes:
- ``gateway`` (a plain OpenTelemetry SDK): SERVER spans for three routes, some 5xx, each
  /api/orders call going to auth (CLIENT span + auth's SERVER span in the same trace);
- ``auth`` (the Pyrometer agent: ``telemetry.sdk.name = pyrometer``): RED comes from its delta
  exponential histograms of *every* request, while only a sample of its spans (plus every error,
  tail-kept) is sent — so rollup answers must match the metrics, not the spans; DB spans, exception
  events with structured frames, runtime metrics of two instances, insight log records;
- ``worker`` (OTel SDK): Celery CONSUMER spans and the ``pyrometer.celery.queue.depth`` gauge.

``Traffic`` keeps the ground truth (every request's duration, status, ...) so tests compute the
expected answers independently of the server.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import (
    AnyValue,
    ArrayValue,
    InstrumentationScope,
    KeyValue,
    KeyValueList,
)
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.metrics.v1 import metrics_pb2 as mpb
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

NS = 1_000_000_000
MINUTES = 10
APDEX_T = 0.5
SCALE = 3  # the agent's histograms here, and the rollups' span scale
REL_ERROR = (2 ** (2**-SCALE) - 1) / (2 ** (2**-SCALE) + 1)  # docs/format/exp-histogram.md

GATEWAY_ROUTES = ["/api/items", "/api/orders", "/health"]
AUTH_ROUTES = ["/login", "/verify"]
QUERIES = [
    ("SELECT * FROM users WHERE id = ?", "a1b2c3d4e5f60001"),
    ("UPDATE sessions SET seen = ? WHERE id = ?", "a1b2c3d4e5f60002"),
]
TASKS = ["tasks.send_email", "tasks.resize"]


def kv(key: str, value: Any) -> KeyValue:
    return KeyValue(key=key, value=any_value(value))


def any_value(value: Any) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, list):
        return AnyValue(array_value=ArrayValue(values=[any_value(v) for v in value]))
    if isinstance(value, dict):
        return AnyValue(kvlist_value=KeyValueList(values=[kv(k, v) for k, v in value.items()]))
    return AnyValue(string_value=str(value))


def resource(service: str, instance: str, sdk: str) -> Resource:
    return Resource(
        attributes=[
            kv("service.name", service),
            kv("service.instance.id", instance),
            kv("telemetry.sdk.name", sdk),
        ]
    )


@dataclass
class Request:
    """One request as the ground truth knows it."""

    service: str
    route: str
    start_ns: int
    duration_s: float
    status: int  # HTTP status code
    trace_id: bytes
    sent: bool = True  # its span was exported (auth samples)

    @property
    def error(self) -> bool:
        return self.status >= 500


@dataclass
class Traffic:
    base_ns: int  # first whole minute
    requests: list[Request] = field(default_factory=list)
    db_calls: list[dict[str, Any]] = field(default_factory=list)  # sent DB spans
    exceptions: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    queue_depths: list[tuple[int, str, int]] = field(default_factory=list)
    insights: list[dict[str, Any]] = field(default_factory=list)
    runtime: dict[str, dict[str, float]] = field(default_factory=dict)
    traces: dict[bytes, list[tuple[str, Span]]] = field(default_factory=dict)
    payloads: list[tuple[str, bytes]] = field(default_factory=list)
    span_insights: list[bytes] = field(
        default_factory=list
    )  # traces with an insight span  # (path, protobuf)

    @property
    def until_ns(self) -> int:
        return self.base_ns + MINUTES * 60 * NS


def _duration(rng: random.Random, median: float) -> float:
    d = rng.lognormvariate(math.log(median), 0.6)
    # Keep clear of the Apdex edges so bucket-based counts are exact (error < 4.4%).
    for edge in (APDEX_T, 4 * APDEX_T):
        if abs(d - edge) / edge < 0.06:
            d = edge * (0.9 if d < edge else 1.1)
    return round(d, 6)


def _bucket_index(v: float) -> int:
    return math.ceil(math.log2(v) * 2**SCALE) - 1


def _exp_point(
    values: list[float], attrs: list[KeyValue], start: int, end: int
) -> mpb.ExponentialHistogramDataPoint:
    idx = [_bucket_index(v) for v in values]
    lo = min(idx)
    counts = [0] * (max(idx) - lo + 1)
    for i in idx:
        counts[i - lo] += 1
    return mpb.ExponentialHistogramDataPoint(
        attributes=attrs,
        start_time_unix_nano=start,
        time_unix_nano=end,
        count=len(values),
        sum=sum(values),
        scale=SCALE,
        zero_count=0,
        positive=mpb.ExponentialHistogramDataPoint.Buckets(offset=lo, bucket_counts=counts),
        min=min(values),
        max=max(values),
    )


def _span(
    trace_id: bytes,
    span_id: bytes,
    parent: bytes,
    name: str,
    kind: int,
    start: int,
    dur_s: float,
    attrs: dict[str, Any],
    error: bool = False,
    events: list[Span.Event] | None = None,
) -> Span:
    return Span(
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=parent,
        name=name,
        kind=kind,
        start_time_unix_nano=start,
        end_time_unix_nano=start + int(dur_s * NS),
        attributes=[kv(k, v) for k, v in attrs.items()],
        status=Status(code=Status.STATUS_CODE_ERROR if error else Status.STATUS_CODE_UNSET),
        events=events or [],
    )


def build(now_s: float, seed: int = 6) -> Traffic:
    rng = random.Random(seed)
    base = (int(now_s) // 60 - 30) * 60 * NS
    t = Traffic(base_ns=base)
    spans: dict[str, list[Span]] = {"gateway": [], "auth": [], "worker": []}
    auth_hist: dict[tuple[int, str, int], list[float]] = {}

    def new_id(n: int) -> bytes:
        return rng.getrandbits(8 * n).to_bytes(n, "big") or b"\x01" * n

    for minute in range(MINUTES):
        m0 = base + minute * 60 * NS
        # gateway: 30 requests a minute
        for _ in range(30):
            route = rng.choice(GATEWAY_ROUTES)
            start = m0 + rng.randrange(0, 50 * NS)
            dur = _duration(rng, {"/api/items": 0.12, "/api/orders": 0.6, "/health": 0.005}[route])
            status = 500 if route != "/health" and rng.random() < 0.08 else 200
            tid, sid = new_id(16), new_id(8)
            t.requests.append(Request("gateway", route, start, dur, status, tid))
            gw = _span(
                tid,
                sid,
                b"",
                f"GET {route}",
                Span.SPAN_KIND_SERVER,
                start,
                dur,
                {
                    "http.route": route,
                    "http.request.method": "GET",
                    "http.response.status_code": status,
                },
                error=status >= 500,
            )
            spans["gateway"].append(gw)
            t.traces[tid] = [("gateway", gw)]
            if route == "/api/orders":
                # ... which calls auth /verify; auth's part of the trace.
                cid = new_id(8)
                cstart = start + int(dur * NS * 0.1)
                cdur = round(dur * 0.5, 6)
                client = _span(
                    tid,
                    cid,
                    sid,
                    "POST",
                    Span.SPAN_KIND_CLIENT,
                    cstart,
                    cdur,
                    {"server.address": "auth", "http.request.method": "POST"},
                )
                spans["gateway"].append(client)
                t.traces[tid].append(("gateway", client))
                _auth_request(
                    t, rng, spans, auth_hist, tid, cid, "/verify", cstart, cdur, status, new_id
                )
        # auth's own traffic: 20 /login a minute
        for _ in range(20):
            start = m0 + rng.randrange(0, 50 * NS)
            status = 500 if rng.random() < 0.1 else 200
            _auth_request(
                t,
                rng,
                spans,
                auth_hist,
                new_id(16),
                b"",
                "/login",
                start,
                _duration(rng, 0.3),
                status,
                new_id,
            )
        # worker: 6 Celery task runs a minute
        for _ in range(6):
            task = rng.choice(TASKS)
            start = m0 + rng.randrange(0, 50 * NS)
            dur = _duration(rng, 1.5 if task == "tasks.resize" else 0.2)
            failed = rng.random() < 0.15
            retried = rng.random() < 0.2
            tid = new_id(16)
            attrs = {
                "messaging.system": "celery",
                "messaging.destination.name": "default",
                "celery.task.name": task,
                "celery.retries": 1 if retried else 0,
            }
            run = _span(
                tid,
                new_id(8),
                b"",
                f"run {task}",
                Span.SPAN_KIND_CONSUMER,
                start,
                dur,
                attrs,
                failed,
            )
            spans["worker"].append(run)
            t.traces[tid] = [("worker", run)]
            t.tasks.append({"task": task, "duration": dur, "failed": failed, "retried": retried})
        depth = 10 + minute * 3
        t.queue_depths.append((m0 + 55 * NS, "default", depth))

    # auth's RED metrics: one delta point per (minute, route, status).
    points = []
    for (minute, route, status), values in sorted(auth_hist.items()):
        m0 = base + minute * 60 * NS
        points.append(
            _exp_point(
                values,
                [kv("http.route", route), kv("http.response.status_code", status)],
                m0,
                m0 + 59 * NS,
            )
        )
    red = mpb.Metric(
        name="http.server.request.duration",
        unit="s",
        exponential_histogram=mpb.ExponentialHistogram(
            data_points=points, aggregation_temporality=mpb.AGGREGATION_TEMPORALITY_DELTA
        ),
    )
    t.payloads.append(("/v1/metrics", _metrics("auth", "auth-1", [red])))
    for instance, rss, user, system in (("auth-1", 150e6, 3.0, 1.0), ("auth-2", 90e6, 1.5, 0.5)):
        last = t.until_ns - 30 * NS
        metrics = [
            mpb.Metric(
                name="process.memory.usage",
                unit="By",
                gauge=mpb.Gauge(
                    data_points=[
                        mpb.NumberDataPoint(time_unix_nano=last - 60 * NS, as_int=int(rss * 0.9)),
                        mpb.NumberDataPoint(time_unix_nano=last, as_int=int(rss)),
                    ]
                ),
            ),
            mpb.Metric(
                name="process.cpu.time",
                unit="s",
                sum=mpb.Sum(
                    aggregation_temporality=mpb.AGGREGATION_TEMPORALITY_DELTA,
                    is_monotonic=True,
                    data_points=[
                        mpb.NumberDataPoint(
                            attributes=[kv("cpu.mode", mode)],
                            start_time_unix_nano=last - 10 * NS,
                            time_unix_nano=last,
                            as_double=v,
                        )
                        for mode, v in (("user", user), ("system", system))
                    ],
                ),
            ),
        ]
        t.payloads.append(("/v1/metrics", _metrics("auth", instance, metrics)))
        t.runtime[instance] = {"rss": rss, "cpu": (user + system) / 10}

    for service, sdk, instance in (
        ("gateway", "opentelemetry", "gw-1"),
        ("auth", "pyrometer", "auth-1"),
        ("worker", "opentelemetry", "worker-1"),
    ):
        req = ExportTraceServiceRequest(
            resource_spans=[
                ResourceSpans(
                    resource=resource(service, instance, sdk),
                    scope_spans=[
                        ScopeSpans(scope=InstrumentationScope(name="test"), spans=spans[service])
                    ],
                )
            ]
        )
        t.payloads.append(("/v1/traces", req.SerializeToString()))
    queue_depth = mpb.Metric(
        name="pyrometer.celery.queue.depth",
        unit="{message}",
        gauge=mpb.Gauge(
            data_points=[
                mpb.NumberDataPoint(
                    time_unix_nano=when,
                    as_int=d,
                    attributes=[
                        kv("messaging.system", "celery"),
                        kv("messaging.destination.name", q),
                    ],
                )
                for when, q, d in t.queue_depths
            ]
        ),
    )
    t.payloads.append(
        ("/v1/metrics", _metrics("worker", "worker-1", [queue_depth], sdk="opentelemetry"))
    )
    t.payloads.append(("/v1/logs", _logs(t, rng)))
    return t


def _auth_request(
    t: Traffic,
    rng: random.Random,
    spans: dict[str, list[Span]],
    hist: dict[tuple[int, str, int], list[float]],
    tid: bytes,
    parent: bytes,
    route: str,
    start: int,
    dur: float,
    status: int,
    new_id: Any,
) -> None:
    minute = (start - t.base_ns) // (60 * NS)
    hist.setdefault((minute, route, status), []).append(dur)
    error = status >= 500
    sent = error or rng.random() < 0.3  # head sampling at 30%, errors tail-kept
    t.requests.append(Request("auth", route, start, dur, status, tid, sent))
    if not sent:
        return
    sid = new_id(8)
    events = []
    if error:
        etype = rng.choice(["ValueError", "KeyError"])
        handler = "check_token" if etype == "ValueError" else "load_user"
        frames = [
            {
                "file": "/venv/lib/flask/app.py",
                "line": 880,
                "function": "dispatch",
                "in_app": False,
            },
            {
                "file": "/srv/auth/views.py",
                "line": 40 + rng.randrange(5),
                "function": route[1:],
                "in_app": True,
            },
            {"file": "/srv/auth/logic.py", "line": 12, "function": handler, "in_app": True},
        ]
        message = f"user {rng.randrange(10**6)} rejected"  # varies: must not split groups
        events.append(
            Span.Event(
                time_unix_nano=start + int(dur * NS / 2),
                name="exception",
                attributes=[
                    kv("exception.type", etype),
                    kv("exception.message", message),
                    kv("exception.stacktrace", "Traceback ..."),
                    kv("pyrometer.exception.frames", frames),
                ],
            )
        )
        t.exceptions.append(
            {"type": etype, "handler": handler, "route": route, "trace_id": tid, "message": message}
        )
    keep = "error" if error else "sampled"
    extra: dict[str, Any] = {}
    if not error and route == "/login" and tid[0] % 8 == 0:
        extra["pyrometer.insight"] = "n_plus_one"  # the agent marks spans carrying a finding
        t.span_insights.append(tid)
    span = _span(
        tid,
        sid,
        parent,
        f"POST {route}",
        Span.SPAN_KIND_SERVER,
        start,
        dur,
        {
            "http.route": route,
            "http.request.method": "POST",
            "http.response.status_code": status,
            "pyrometer.keep_reason": keep,
            **extra,
        },
        error=error,
        events=events,
    )
    spans["auth"].append(span)
    t.traces.setdefault(tid, []).append(("auth", span))
    for _ in range(rng.randrange(1, 4)):
        text, fp = rng.choice(QUERIES)
        qdur = round(dur * rng.uniform(0.05, 0.3), 6)
        qstart = start + int(dur * NS * 0.2)
        attrs = {
            "db.system": "postgresql",
            "db.query.text": text,
            "db.query.fingerprint": fp,
            "db.response.returned_rows": 1,
        }
        db = _span(tid, new_id(8), sid, text.split()[0], Span.SPAN_KIND_CLIENT, qstart, qdur, attrs)
        spans["auth"].append(db)
        t.traces[tid].append(("auth", db))
        t.db_calls.append(
            {"fingerprint": fp, "text": text, "duration": qdur, "route": route, "trace_id": tid}
        )


def _metrics(
    service: str, instance: str, metrics: list[mpb.Metric], sdk: str = "pyrometer"
) -> bytes:
    return ExportMetricsServiceRequest(
        resource_metrics=[
            mpb.ResourceMetrics(
                resource=resource(service, instance, sdk),
                scope_metrics=[
                    mpb.ScopeMetrics(scope=InstrumentationScope(name="pyrometer"), metrics=metrics)
                ],
            )
        ]
    ).SerializeToString()


def _logs(t: Traffic, rng: random.Random) -> bytes:
    auth_logs = []
    insight_kinds = [
        ("n_plus_one", "fp-nplus1", "high", "/srv/auth/views.py", 42, "login"),
        ("slow_query", "fp-slowq", "medium", "/srv/auth/logic.py", 12, "load_user"),
    ]
    auth_traces = [r.trace_id for r in t.requests if r.service == "auth" and r.sent]
    for i in range(7):
        kind, fp, sev, file, line, fn = insight_kinds[0 if i < 5 else 1]
        tid = auth_traces[i * 3]
        when = t.base_ns + (i + 1) * 60 * NS
        auth_logs.append(
            LogRecord(
                time_unix_nano=when,
                severity_number=13,
                event_name="pyrometer.insight",
                trace_id=tid,
                body=AnyValue(string_value=f"{kind} evidence {i}"),
                attributes=[
                    kv("pyrometer.insight.kind", kind),
                    kv("pyrometer.insight.fingerprint", fp),
                    kv("pyrometer.insight.severity", sev),
                    kv("pyrometer.insight.title", f"{kind} in {fn}"),
                    kv("code.filepath", file),
                    kv("code.lineno", line),
                    kv("code.function", fn),
                ],
            )
        )
        t.insights.append(
            {
                "kind": kind,
                "fingerprint": fp,
                "severity": sev,
                "file": file,
                "line": line,
                "function": fn,
                "trace_id": tid,
                "time": when,
            }
        )
    req = ExportLogsServiceRequest(
        resource_logs=[
            ResourceLogs(
                resource=resource("auth", "auth-1", "pyrometer"),
                scope_logs=[ScopeLogs(log_records=auth_logs)],
            ),
        ]
    )
    return req.SerializeToString()


def dump_summary(t: Traffic) -> str:
    """A short description for assertion messages."""
    return json.dumps(
        {
            "requests": len(t.requests),
            "db_calls": len(t.db_calls),
            "exceptions": len(t.exceptions),
            "tasks": len(t.tasks),
        }
    )


# ---- a minimal pprof encoder (profile.proto field numbers), for /v1/profiles uploads ----


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(num: int, payload: bytes) -> bytes:
    return _varint(num << 3 | 2) + _varint(len(payload)) + payload


def _int_field(num: int, value: int) -> bytes:
    return _varint(num << 3) + _varint(value)


def _packed(num: int, values: list[int]) -> bytes:
    return _field(num, b"".join(_varint(v) for v in values))


def pprof_bytes(stacks: list[tuple[list[tuple[str, str, int]], int]], time_ns: int) -> bytes:
    """A cpu/nanoseconds pprof of `stacks`: ([(function, file, line)] root first, value)."""
    strings = [""]

    def s(text: str) -> int:
        if text not in strings:
            strings.append(text)
        return strings.index(text)

    frames: list[tuple[str, str, int]] = []
    body = _field(1, _int_field(1, s("cpu")) + _int_field(2, s("nanoseconds")))
    samples = b""
    for stack, value in stacks:
        ids = []
        for fr in reversed(stack):  # pprof lists the leaf first
            if fr not in frames:
                frames.append(fr)
            ids.append(frames.index(fr) + 1)
        samples += _field(2, _packed(1, ids) + _packed(2, [value]))
    locs = b""
    funcs = b""
    for i, (fn, file, line) in enumerate(frames, start=1):
        locs += _field(4, _int_field(1, i) + _field(4, _int_field(1, i) + _int_field(2, line)))
        funcs += _field(
            5,
            _int_field(1, i) + _int_field(2, s(fn)) + _int_field(3, s(fn)) + _int_field(4, s(file)),
        )
    tail = _int_field(9, time_ns) + _int_field(10, 10 * NS)
    tail += _field(11, _int_field(1, s("cpu")) + _int_field(2, s("nanoseconds")))
    tail += _int_field(12, 10_000_000)
    table = b"".join(_field(6, x.encode()) for x in strings)
    return body + samples + locs + funcs + table + tail


PROFILE_STACKS: list[tuple[list[tuple[str, str, int]], int]] = [
    ([("main", "app.py", 1), ("handle", "views.py", 10), ("query", "db.py", 5)], 300),
    ([("main", "app.py", 1), ("handle", "views.py", 10)], 100),
    ([("main", "app.py", 1), ("render", "tpl.py", 7)], 50),
]
