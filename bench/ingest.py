"""Ingest benchmark: pyrometer-server vs SQLite on the same span workload, on loopback.

The server runs pinned to core 0 (``taskset -c 0``); client processes on the other core send
pre-encoded OTLP protobuf batches (realistic web traces, 512 spans per request) over keep-alive
connections (16 by default: each waits for its group commit, so throughput needs requests in
flight). A span counts once its request got a 200, i.e. once it is in the fsynced WAL.
Then the server is stopped gracefully and the data directory measured (bytes per span).

Baseline, same run, same core: the same spans inserted into SQLite (one table, indexed by
trace id, one transaction per 512-span batch, WAL journal, synchronous=FULL so a commit is
durable like our 200). Rows are built before the clock starts, so SQLite is not charged for
protobuf decoding — a conservative baseline.

    .venv/bin/python bench/ingest.py [--seconds 15] [--clients 16] [--rounds 1]
        [--compare-server PATH]

Prints spans/s and bytes/span for both and the ratios. Bounded: about a minute per round.
With --rounds N the server and SQLite runs alternate N times and medians are printed (on a
shared machine single runs swing); --compare-server adds a second pyrometer-server binary
(e.g. a build of the previous commit) to every round, run right after the first.
"""

from __future__ import annotations

import argparse
import importlib.resources
import json
import multiprocessing as mp
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

SPANS_PER_REQUEST = 512
DISTINCT_BATCHES = 120  # ~61k spans, cycled; ids are made unique per pass (see fresh_ids)
SERVICES = ["checkout", "users", "catalog", "payments", "gateway"]
ROUTES = [
    "/api/users/{id}",
    "/api/orders",
    "/api/orders/{id}",
    "/api/cart",
    "/health",
    "/api/products",
    "/api/products/{id}",
    "/login",
    "/api/search",
    "/api/payments",
]
QUERIES = [
    "SELECT id, name, email FROM users WHERE id = ?",
    "SELECT * FROM orders WHERE user_id = ? ORDER BY created_at DESC LIMIT ?",
    "INSERT INTO order_items (order_id, product_id, qty) VALUES (?, ?, ?)",
    "UPDATE carts SET updated_at = ? WHERE id = ?",
]


def server_binary() -> Path:
    override = os.environ.get("PYROMETER_SERVER_BIN")
    if override:
        return Path(override)
    return Path(str(importlib.resources.files("pyrometer") / "bin/pyrometer-server"))


def _attr(span: Span, key: str, value: object) -> None:
    kv = span.attributes.add()
    kv.key = key
    if isinstance(value, bool):
        kv.value.bool_value = value
    elif isinstance(value, int):
        kv.value.int_value = value
    else:
        kv.value.string_value = str(value)


def batch_marks(batch_no: int, pass_no: int, client_no: int) -> tuple[bytes, bytes]:
    """4-byte prefixes of every trace id / span id in a batch, distinct per (batch, pass, client).

    Every id in a batch starts with its batch's marks, so a client makes a cycled batch carry
    fresh ids with two bytes.replace calls instead of re-encoding (cheap enough not to starve
    the server of requests, and no repeated ids for the store to compress away).
    """
    key = f"{batch_no}/{pass_no}/{client_no}".encode()
    return (zlib.crc32(b"t" + key).to_bytes(4, "big"), zlib.crc32(b"s" + key).to_bytes(4, "big"))


def fresh_ids(body: bytes, batch_no: int, pass_no: int, client_no: int) -> bytes:
    if pass_no == 0 and client_no == 0:
        return body
    old_t, old_s = batch_marks(batch_no, 0, 0)
    new_t, new_s = batch_marks(batch_no, pass_no, client_no)
    return body.replace(old_t, new_t).replace(old_s, new_s)


def make_batch(rng: random.Random, batch_no: int, base_ns: int) -> ExportTraceServiceRequest:
    """512 spans of ~8-span web traces: server span, DB calls, a cache call, an HTTP client call."""
    req = ExportTraceServiceRequest()
    t_mark, s_mark = batch_marks(batch_no, 0, 0)
    by_service: dict[str, list[Span]] = {}
    count = 0
    trace_no = batch_no * 1000
    while count < SPANS_PER_REQUEST:
        trace_no += 1
        service = rng.choice(SERVICES)
        route = rng.choice(ROUTES)
        trace_id = t_mark + rng.getrandbits(96).to_bytes(12, "big")
        start = base_ns + batch_no * 50_000_000 + rng.randrange(50_000_000)
        duration = int(rng.lognormvariate(16.5, 0.8))  # ~15 ms median
        status = rng.choices([200, 201, 404, 500], [85, 8, 5, 2])[0]
        root = Span(
            trace_id=trace_id,
            span_id=s_mark + rng.getrandbits(32).to_bytes(4, "big"),
            name=f"GET {route}",
            kind=Span.SPAN_KIND_SERVER,
            start_time_unix_nano=start,
            end_time_unix_nano=start + duration,
        )
        _attr(root, "http.request.method", "GET")
        _attr(root, "http.route", route)
        _attr(root, "http.response.status_code", status)
        _attr(root, "url.scheme", "https")
        _attr(root, "server.address", f"{service}.internal")
        _attr(root, "user_agent.original", "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0")
        if status >= 500:
            root.status.code = Status.STATUS_CODE_ERROR
            root.status.message = "Internal Server Error"
        spans = [root]
        children = min(rng.randint(4, 10), SPANS_PER_REQUEST - count - 1)
        t = start + duration // 20
        for c in range(children):
            child_dur = max(1000, int(duration * rng.uniform(0.02, 0.12)))
            child = Span(
                trace_id=trace_id,
                span_id=s_mark + rng.getrandbits(32).to_bytes(4, "big"),
                parent_span_id=root.span_id,
                kind=Span.SPAN_KIND_CLIENT,
                start_time_unix_nano=t,
                end_time_unix_nano=t + child_dur,
            )
            kind = c % 4
            if kind in (0, 1):
                child.name = "SELECT" if kind == 0 else "INSERT"
                _attr(child, "db.system", "postgresql")
                _attr(child, "db.query.text", rng.choice(QUERIES))
                _attr(child, "server.address", "db.internal")
            elif kind == 2:
                child.name = "GET"
                _attr(child, "db.system", "redis")
                _attr(child, "db.operation.name", "GET")
            else:
                child.name = "POST"
                _attr(child, "http.request.method", "POST")
                _attr(child, "url.full", "https://auth.internal/v1/verify")
                _attr(child, "http.response.status_code", 200)
            spans.append(child)
            t += child_dur + 10_000
        by_service.setdefault(service, []).extend(spans)
        count += len(spans)
    for service, spans in by_service.items():
        rs = req.resource_spans.add()
        for key, value in (
            ("service.name", service),
            ("service.version", "1.4.2"),
            ("host.name", f"{service}-7f9c-2"),
            ("telemetry.sdk.language", "python"),
        ):
            kv = rs.resource.attributes.add()
            kv.key, kv.value.string_value = key, value
        ss = rs.scope_spans.add()
        ss.scope.name = "pyrometer"
        ss.spans.extend(spans)
    return req


def build_workload(path: Path) -> int:
    rng = random.Random(42)
    base = time.time_ns() - 3_600_000_000_000
    bodies = [make_batch(rng, i, base).SerializeToString() for i in range(DISTINCT_BATCHES)]
    with open(path, "wb") as f:
        for body in bodies:
            f.write(len(body).to_bytes(4, "big"))
            f.write(body)
    return sum(len(b) for b in bodies)


def load_workload(path: Path) -> list[bytes]:
    data = path.read_bytes()
    out, i = [], 0
    while i < len(data):
        n = int.from_bytes(data[i : i + 4], "big")
        out.append(data[i + 4 : i + 4 + n])
        i += 4 + n
    return out


def read_response(sock: socket.socket, buf: bytearray) -> int:
    """Reads one HTTP/1.1 response with a Content-Length body; returns its status code."""
    while True:
        head_end = buf.find(b"\r\n\r\n")
        if head_end >= 0:
            head = bytes(buf[:head_end]).lower()
            length = int(head.split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
            total = head_end + 4 + length
            if len(buf) >= total:
                status = int(head[9:12])
                del buf[:total]
                return status
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        buf += chunk


def client(port: int, path: str, seconds: float, client_no: int, result: mp.Queue) -> None:
    """One keep-alive connection sending batches back to back (raw socket: the Python
    client must not be the bottleneck on its single core)."""
    os.sched_setaffinity(0, {1})
    bodies = load_workload(Path(path))
    n = len(bodies)
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = bytearray()
    acked = refused = 0
    deadline = time.monotonic() + seconds
    i = 0
    while time.monotonic() < deadline:
        body = fresh_ids(bodies[i % n], i % n, i // n, client_no)
        head = (
            "POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/x-protobuf\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        sock.sendall(head + body)
        if read_response(sock, buf) == 200:
            acked += SPANS_PER_REQUEST
        else:
            refused += 1
        i += 1
    sock.close()
    result.put((acked, refused))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def dir_bytes(path: Path) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for p in path.rglob("*"):
        if p.is_file():
            top = p.relative_to(path).parts[0]
            sizes[top] = sizes.get(top, 0) + p.stat().st_size
    return sizes


def bench_server(
    work: Path, tmp: Path, seconds: float, clients: int, binary: Path
) -> dict[str, float]:
    data = tmp / "pyrometer-data"
    shutil.rmtree(data, ignore_errors=True)
    out = tmp / "server.out"
    with open(out, "wb") as f:
        proc = subprocess.Popen(
            [
                "taskset",
                "-c",
                "0",
                str(binary),
                "--data",
                str(data),
                "--listen",
                "127.0.0.1:0",
                "--threads",
                "1",
            ],
            stdout=f,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 15
        port = 0
        while not port and time.monotonic() < deadline:
            m = re.search(r"listening on http://[^:]+:(\d+)", out.read_text())
            port = int(m.group(1)) if m else 0
            time.sleep(0.05)
        if not port:
            raise RuntimeError("server did not start: " + out.read_text())
        queue: mp.Queue = mp.Queue()
        procs = [
            mp.Process(target=client, args=(port, str(work), seconds, k, queue))
            for k in range(clients)
        ]
        start = time.monotonic()
        cpu_start = cpu_seconds(proc.pid)
        for p in procs:
            p.start()
        results = [queue.get(timeout=seconds + 60) for _ in procs]
        elapsed = time.monotonic() - start
        server_cpu = cpu_seconds(proc.pid) - cpu_start
        for p in procs:
            p.join()
        acked = sum(r[0] for r in results)
        refused = sum(r[1] for r in results)
        time.sleep(3)  # let background maintenance cut/compact
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
    sizes = dir_bytes(data)
    total = sum(sizes.values())
    return {
        "spans": acked,
        "refused_requests": refused,
        "seconds": elapsed,
        "spans_per_s": acked / elapsed,
        "server_cpu_s": server_cpu,
        "spans_per_cpu_s": acked / max(server_cpu, 1e-9),
        "disk_bytes": total,
        "bytes_per_span": total / max(acked, 1),
        "exit_code": code,
        **{f"disk_{k}": v for k, v in sizes.items()},
    }


def sqlite_rows(bodies: list[bytes]) -> list[list[tuple]]:
    batches = []
    for body in bodies:
        req = ExportTraceServiceRequest.FromString(body)
        rows = []
        for rs in req.resource_spans:
            res = json.dumps({kv.key: kv.value.string_value for kv in rs.resource.attributes})
            service = next(
                kv.value.string_value for kv in rs.resource.attributes if kv.key == "service.name"
            )
            for ss in rs.scope_spans:
                for s in ss.spans:
                    attrs = json.dumps(
                        {
                            kv.key: (kv.value.string_value or kv.value.int_value)
                            for kv in s.attributes
                        }
                    )
                    rows.append(
                        (
                            s.trace_id,
                            s.span_id,
                            s.parent_span_id,
                            service,
                            s.name,
                            s.kind,
                            s.start_time_unix_nano,
                            s.end_time_unix_nano,
                            s.status.code,
                            s.status.message,
                            attrs,
                            res,
                        )
                    )
        batches.append(rows)
    return batches


def sqlite_worker(work: str, db_path: str, seconds: float, result: mp.Queue) -> None:
    os.sched_setaffinity(0, {0})
    batches = sqlite_rows(load_workload(Path(work)))
    db = sqlite3.connect(db_path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("""CREATE TABLE spans (trace_id BLOB, span_id BLOB, parent_span_id BLOB,
        service TEXT, name TEXT, kind INTEGER, start_ns INTEGER, end_ns INTEGER,
        status_code INTEGER, status_message TEXT, attributes TEXT, resource TEXT)""")
    db.execute("CREATE INDEX spans_trace_id ON spans (trace_id)")
    insert = "INSERT INTO spans VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
    spans = 0
    start = time.monotonic()
    deadline = start + seconds
    i = 0
    while time.monotonic() < deadline:
        rows = batches[i % len(batches)]
        if i >= len(batches):  # fresh trace ids per pass, as the server clients send
            mark = batch_marks(i % len(batches), i // len(batches), 0)[0]
            rows = [(mark + r[0][4:], *r[1:]) for r in rows]
        db.execute("BEGIN")
        db.executemany(insert, rows)
        db.execute("COMMIT")
        spans += len(rows)
        i += 1
    elapsed = time.monotonic() - start
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    result.put((spans, elapsed))


def bench_sqlite(work: Path, tmp: Path, seconds: float) -> dict[str, float]:
    db_path = tmp / "baseline.sqlite"
    for old in tmp.glob("baseline.sqlite*"):
        old.unlink()
    queue: mp.Queue = mp.Queue()
    p = mp.Process(target=sqlite_worker, args=(str(work), str(db_path), seconds, queue))
    p.start()
    spans, elapsed = queue.get(timeout=seconds + 120)
    p.join()
    total = sum(f.stat().st_size for f in tmp.glob("baseline.sqlite*"))
    return {
        "spans": spans,
        "seconds": elapsed,
        "spans_per_s": spans / elapsed,
        "disk_bytes": total,
        "bytes_per_span": total / max(spans, 1),
    }


def print_round(server: dict[str, float], sqlite: dict[str, float]) -> None:
    print(f"{'':12}{'spans/s':>12}{'bytes/span':>12}{'spans':>12}")
    for name, r in (("pyrometer", server), ("sqlite", sqlite)):
        print(f"{name:12}{r['spans_per_s']:>12,.0f}{r['bytes_per_span']:>12.1f}{r['spans']:>12,}")
    print(
        f"ratio: {server['spans_per_s'] / sqlite['spans_per_s']:.1f}x spans/s, "
        f"{sqlite['bytes_per_span'] / server['bytes_per_span']:.1f}x smaller on disk"
    )
    print(
        f"pyrometer-server used {server['server_cpu_s']:.1f} CPU-s in {server['seconds']:.1f} s: "
        f"{server['spans_per_cpu_s']:,.0f} spans per server CPU-second"
    )
    print(
        "server detail:",
        json.dumps(
            {
                k: v
                for k, v in server.items()
                if k.startswith("disk_") or k in ("refused_requests", "exit_code")
            }
        ),
    )


def summary(label: str, runs: list[dict[str, float]], keys: tuple[str, ...]) -> str:
    parts = []
    for k in keys:
        vals = [r[k] for r in runs]
        parts.append(f"{k} {statistics.median(vals):,.1f} ({min(vals):,.1f}-{max(vals):,.1f})")
    return f"{label:16}" + "; ".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--compare-server", type=Path, default=None)
    args = parser.parse_args()
    if shutil.which("taskset") is None or os.cpu_count() is None or os.cpu_count() < 2:
        print("bench/ingest.py needs taskset and 2 cores", file=sys.stderr)
        return 2
    binaries = {"pyrometer": server_binary()}
    if args.compare_server is not None:
        binaries["compare"] = args.compare_server
    results: dict[str, list[dict[str, float]]] = {name: [] for name in (*binaries, "sqlite")}
    loads: list[float] = []
    with tempfile.TemporaryDirectory(prefix="pyrometer-bench-") as d:
        tmp = Path(d)
        work = tmp / "workload.bin"
        wire = build_workload(work)
        print(
            f"workload: {DISTINCT_BATCHES} batches x {SPANS_PER_REQUEST} spans, "
            f"{wire / (DISTINCT_BATCHES * SPANS_PER_REQUEST):.0f} protobuf bytes/span"
        )
        for rnd in range(args.rounds):
            loads.append(os.getloadavg()[0])
            for name, binary in binaries.items():
                results[name].append(bench_server(work, tmp, args.seconds, args.clients, binary))
            results["sqlite"].append(bench_sqlite(work, tmp, args.seconds))
            print(f"--- round {rnd + 1}/{args.rounds}, load average {loads[-1]:.1f}")
            for name in binaries:
                print(f"[{name}: {binaries[name]}]")
                print_round(results[name][-1], results["sqlite"][-1])
    if args.rounds > 1 or len(binaries) > 1:
        print(
            f"=== medians (min-max) of {args.rounds} rounds; load average {min(loads):.1f}-"
            f"{max(loads):.1f}"
        )
        for name in binaries:
            print(
                summary(name, results[name], ("spans_per_s", "spans_per_cpu_s", "bytes_per_span"))
            )
            ratios = [
                s["spans_per_s"] / q["spans_per_s"]
                for s, q in zip(results[name], results["sqlite"])
            ]
            print(f"{'':16}vs SQLite: {statistics.median(ratios):.1f}x spans/s (same-round ratios)")
        print(summary("sqlite", results["sqlite"], ("spans_per_s", "bytes_per_span")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
