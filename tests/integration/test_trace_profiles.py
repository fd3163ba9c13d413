"""Per-span profiles in the trace detail: a trace sent by OTLP and a gzipped pprof whose samples
carry that trace's `trace_id`/`span_id` labels; GET /api/v1/traces/{id} shows, per span, counts
per function and per stack that this test computes on its own from the samples it sent. The
index survives a restart (WAL replay) and a flush into a block (SIGTERM), and the response
validates against docs/openapi.yaml.
"""

from __future__ import annotations

import gzip
import os
import shutil
import tempfile
import time
import urllib.parse
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span
from query_server import QueryServer, start_server, stop_server
from query_traffic import NS, kv, resource

SPEC = yaml.safe_load((Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml").read_text())

Frame = tuple[str, str, int]  # function, file, line

TRACE = os.urandom(16)
ROOT, DB, RENDER, IDLE = (os.urandom(8) for _ in range(4))
OTHER_TRACE = os.urandom(16)

MAIN: Frame = ("main", "/srv/app.py", 3)
HANDLE: Frame = ("handle", "/srv/views.py", 10)
HANDLE_LATE: Frame = ("handle", "/srv/views.py", 14)
QUERY: Frame = ("query", "/srv/db.py", 5)
FETCH: Frame = ("fetch", "/srv/db.py", 40)
RENDER_FN: Frame = ("render", "/srv/tpl.py", 7)
WALK: Frame = ("walk", "/srv/tpl.py", 20)

# (stack root first, samples, trace id or None, span id or None)
SAMPLES: list[tuple[list[Frame], int, bytes | None, bytes | None]] = [
    ([MAIN, HANDLE], 4, TRACE, ROOT),
    ([MAIN, HANDLE_LATE], 2, TRACE, ROOT),
    ([MAIN, HANDLE, QUERY], 6, TRACE, DB),
    ([MAIN, HANDLE, QUERY, FETCH], 9, TRACE, DB),
    ([MAIN, HANDLE, RENDER_FN, WALK, WALK], 5, TRACE, RENDER),  # recursion: total counted once
    ([MAIN, HANDLE, RENDER_FN], 1, TRACE, RENDER),
    ([MAIN, HANDLE], 50, None, None),  # unlabelled: merged profiles only
    ([MAIN, QUERY], 8, OTHER_TRACE, DB),  # another trace with a colliding span id
]


def pb_varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def pb_len(tag: int, payload: bytes) -> bytes:
    return pb_varint(tag << 3 | 2) + pb_varint(len(payload)) + payload


def pb_int(tag: int, n: int) -> bytes:
    return pb_varint(tag << 3) + pb_varint(n)


def pprof(samples: list[tuple[list[Frame], int, bytes | None, bytes | None]]) -> bytes:
    """A [samples/count, cpu/nanoseconds] profile; labels as the agent writes them (hex)."""
    strings = [""]

    def s(text: str) -> int:
        if text not in strings:
            strings.append(text)
        return strings.index(text)

    functions: list[tuple[str, str]] = []
    locations: list[Frame] = []
    body = pb_len(1, pb_int(1, s("samples")) + pb_int(2, s("count")))
    body += pb_len(1, pb_int(1, s("cpu")) + pb_int(2, s("nanoseconds")))
    for stack, count, trace, span in samples:
        ids = []
        for frame in reversed(stack):  # leaf first
            if frame not in locations:
                locations.append(frame)
            ids.append(locations.index(frame) + 1)
        sample = pb_len(1, b"".join(pb_varint(i) for i in ids))
        sample += pb_len(2, pb_varint(count) + pb_varint(count * 10_000_000))
        if trace is not None and span is not None:
            sample += pb_len(3, pb_int(1, s("trace_id")) + pb_int(2, s(trace.hex())))
            sample += pb_len(3, pb_int(1, s("span_id")) + pb_int(2, s(span.hex())))
        sample += pb_len(3, pb_int(1, s("thread")) + pb_int(2, s("MainThread")))
        body += pb_len(2, sample)
    for i, (fn, file, line) in enumerate(locations, start=1):
        if (fn, file) not in functions:
            functions.append((fn, file))
        fid = functions.index((fn, file)) + 1
        body += pb_len(4, pb_int(1, i) + pb_len(4, pb_int(1, fid) + pb_int(2, line)))
    for i, (fn, file) in enumerate(functions, start=1):
        body += pb_len(5, pb_int(1, i) + pb_int(2, s(fn)) + pb_int(4, s(file)))
    body += b"".join(pb_len(6, x.encode()) for x in strings)
    return (
        body
        + pb_len(11, pb_int(1, s("cpu")) + pb_int(2, s("nanoseconds")))
        + pb_int(12, 10_000_000)
    )


def expected_profiles() -> dict[str, dict[str, Any]]:
    """Per span (hex): samples, functions {(function, file): self/total/hot line}, stacks."""
    by_span: dict[bytes, list[tuple[list[Frame], int]]] = defaultdict(list)
    for stack, count, trace, span in SAMPLES:
        if trace == TRACE and span is not None:
            by_span[span].append((stack, count))
    out: dict[str, dict[str, Any]] = {}
    for span, items in by_span.items():
        self_: Counter[tuple[str, str]] = Counter()
        total: Counter[tuple[str, str]] = Counter()
        lines: dict[tuple[str, str], Counter[int]] = defaultdict(Counter)
        for stack, count in items:
            leaf = stack[-1]
            self_[(leaf[0], leaf[1])] += count
            for fn in {(f[0], f[1]) for f in stack}:
                total[fn] += count
            for f in set(stack):
                lines[(f[0], f[1])][f[2]] += count
        functions = {
            fn: {
                "self": self_[fn],
                "total": total[fn],
                # the line in the most samples; ties go to the lowest line
                "line": sorted(lines[fn].items(), key=lambda kv_: (-kv_[1], kv_[0]))[0][0],
            }
            for fn in total
        }
        stacks = Counter()
        for stack, count in items:
            stacks[tuple(f"{f[0]} {f[1]}:{f[2]}" for f in stack)] += count
        out[span.hex()] = {
            "samples": sum(c for _, c in items),
            "functions": functions,
            "stacks": dict(stacks),
        }
    return out


def send_trace(server: QueryServer, start_ns: int) -> None:
    def span(span_id: bytes, parent: bytes, name: str, offset_ms: int, dur_ms: int) -> Span:
        return Span(
            trace_id=TRACE,
            span_id=span_id,
            parent_span_id=parent,
            name=name,
            kind=Span.SPAN_KIND_SERVER if not parent else Span.SPAN_KIND_INTERNAL,
            start_time_unix_nano=start_ns + offset_ms * 1_000_000,
            end_time_unix_nano=start_ns + (offset_ms + dur_ms) * 1_000_000,
            attributes=[kv("http.route", "/pay")] if not parent else [],
        )

    spans = [
        span(ROOT, b"", "GET /pay", 0, 300),
        span(DB, ROOT, "db query", 20, 150),
        span(RENDER, ROOT, "render", 180, 100),
        span(IDLE, ROOT, "idle", 290, 5),
    ]
    req = ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource=resource("shop", "shop-1", "pyrometer"),
                scope_spans=[ScopeSpans(spans=spans)],
            )
        ]
    )
    assert server.post("/v1/traces", req.SerializeToString()) == 200


def send_profile(server: QueryServer, time_ns: int) -> None:
    query = urllib.parse.urlencode(
        {"service": "shop", "instance": "shop-1", "route": "/pay", "type": "cpu", "time": time_ns}
    )
    body = gzip.compress(pprof(SAMPLES))
    assert server.post("/v1/profiles?" + query, body, "application/octet-stream") == 200


def validate_trace(body: Any) -> None:
    op = SPEC["paths"]["/api/v1/traces/{trace_id}"]["get"]["responses"]["200"]
    root = {"components": SPEC["components"], **op["content"]["application/json"]["schema"]}
    errors = sorted(Draft202012Validator(root).iter_errors(body), key=str)
    assert not errors, "; ".join(e.message for e in errors[:5])


def check_trace(server: QueryServer) -> None:
    body = server.get(f"/api/v1/traces/{TRACE.hex()}")
    validate_trace(body)
    spans = {s["span_id"]: s for s in body["spans"]}
    assert set(spans) == {ROOT.hex(), DB.hex(), RENDER.hex(), IDLE.hex()}
    assert "profile" not in spans[IDLE.hex()]  # no samples fell inside it
    want = expected_profiles()
    assert set(want) == {ROOT.hex(), DB.hex(), RENDER.hex()}
    for span_id, exp in want.items():
        got = spans[span_id]["profile"]
        assert got["type"] == "cpu"
        assert "other_profiles" not in spans[span_id]
        assert got["samples"] == exp["samples"], span_id
        functions = {
            (f["function"], f["file"]): {"self": f["self"], "total": f["total"], "line": f["line"]}
            for f in got["functions"]
        }
        assert functions == exp["functions"], span_id
        totals = [f["total"] for f in got["functions"]]
        assert totals == sorted(totals, reverse=True)
        stacks = {tuple(s["frames"]): s["count"] for s in got["stacks"]}
        assert stacks == exp["stacks"], span_id


def test_trace_detail_shows_each_spans_profile_samples() -> None:
    data = tempfile.mkdtemp(prefix="pyrometer-trace-profiles-")
    start_ns = time.time_ns() - 5 * NS
    server = start_server(["--data", data])
    try:
        send_trace(server, start_ns)
        send_profile(server, start_ns + 2 * NS)
        check_trace(server)  # from the head
    finally:
        stop_server(server)  # SIGTERM: the head is flushed into a block
    # The flushed block keeps the per-trace index in its own file (docs/storage-format.md).
    assert list(Path(data).glob("blocks/*/profiles.traces")), "no profiles.traces in a block"
    server = start_server(["--data", data])
    try:
        check_trace(server)  # from the block's profiles.traces file
        # A second upload for the same trace adds up with what the block holds.
        send_profile(server, start_ns + 3 * NS)
        body = server.get(f"/api/v1/traces/{TRACE.hex()}")
        db = next(s for s in body["spans"] if s["span_id"] == DB.hex())
        assert db["profile"]["samples"] == 2 * expected_profiles()[DB.hex()]["samples"]
    finally:
        stop_server(server)
        shutil.rmtree(data, ignore_errors=True)
