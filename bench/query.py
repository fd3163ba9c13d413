"""Query API latency over a large store: loads up to --spans spans (default 10M) of realistic
web traces into a fresh pyrometer-server within --load-seconds, then times each /api/v1 endpoint
(p50/p95 of --repeat sequential calls) and GET /api/v1/traces/{id} for random stored traces.

    .venv/bin/python bench/query.py [--spans 10000000] [--load-seconds 120] [--repeat 20]

Spans are encoded straight to OTLP protobuf bytes from precomputed pieces (the protobuf
classes are ~50x slower), 3 spans per trace (SERVER root, DB CLIENT, INTERNAL), 3 services,
20 routes, 2% errors, start times spread over the last 50 minutes. Plain OTel SDK resources,
so the server's rollups come from the spans. Budgets (DESIGN.md section 5): endpoint lists
and time series < 100 ms, a trace by id < 10 ms.
"""

from __future__ import annotations

import argparse
import http.client
import os
import queue
import random
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

NS = 1_000_000_000
SPANS_PER_BATCH = 3000  # 1000 traces


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def ld(field: int, payload: bytes) -> bytes:
    return varint(field << 3 | 2) + varint(len(payload)) + payload


def kv_str(key: str, value: str) -> bytes:
    return ld(1, key.encode()) + ld(2, ld(1, value.encode()))


def kv_int(key: str, value: int) -> bytes:
    return ld(1, key.encode()) + ld(2, varint(3 << 3) + varint(value))


def attrs(*kvs: bytes) -> bytes:
    return b"".join(ld(9, k) for k in kvs)


SERVICES = ["gateway", "catalog", "billing"]
ROUTES = [f"/api/v1/resource{i}/{{id}}" for i in range(20)]
QUERIES = [f"SELECT * FROM table{i} WHERE id = ?" for i in range(10)]


def resource(service: str) -> bytes:
    return ld(
        1,
        ld(1, kv_str("service.name", service))
        + ld(1, kv_str("telemetry.sdk.name", "opentelemetry")),
    )


class Encoder:
    """Pre-built span pieces; encode() makes one ExportTraceServiceRequest of one service."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.root_pieces = {}
        for r in ROUTES:
            for status in (200, 500):
                name = ld(5, f"GET {r}".encode()) + b"\x30\x02"
                a = attrs(
                    kv_str("http.route", r),
                    kv_str("http.request.method", "GET"),
                    kv_int("http.response.status_code", status),
                )
                st = ld(15, b"\x18\x02") if status >= 500 else b""
                self.root_pieces[(r, status)] = (name, a + st)
        self.db_pieces = []
        for q in QUERIES:
            name = ld(5, q.split()[0].encode()) + b"\x30\x03"
            a = attrs(kv_str("db.system", "postgresql"), kv_str("db.query.text", q))
            self.db_pieces.append((name, a))
        self.internal = (ld(5, b"render") + b"\x30\x01", b"")

    def encode(
        self, service: str, n_traces: int, t_lo: int, t_hi: int, keep_ids: list[bytes]
    ) -> bytes:
        rng = self.rng
        ids = os.urandom(24 * n_traces)
        spans = []
        for i in range(n_traces):
            tid = ids[24 * i : 24 * i + 16]
            sid = ids[24 * i + 16 : 24 * i + 24]
            if len(keep_ids) < 1000 and rng.random() < 0.01:
                keep_ids.append(tid)
            route = ROUTES[int(rng.random() * rng.random() * 20)]  # skewed popularity
            status = 500 if rng.random() < 0.02 else 200
            start = rng.randrange(t_lo, t_hi)
            dur = int(rng.lognormvariate(-3.0, 0.8) * NS) + 1000
            name, rest = self.root_pieces[(route, status)]
            head = b"\x0a\x10" + tid
            spans.append(
                head
                + b"\x12\x08"
                + sid
                + name
                + b"\x39"
                + struct.pack("<Q", start)
                + b"\x41"
                + struct.pack("<Q", start + dur)
                + rest
            )
            dname, drest = self.db_pieces[int(rng.random() * 10)]
            ds = start + dur // 10
            spans.append(
                head
                + b"\x12\x08"
                + sid[:4]
                + b"db00"
                + b"\x22\x08"
                + sid
                + dname
                + b"\x39"
                + struct.pack("<Q", ds)
                + b"\x41"
                + struct.pack("<Q", ds + dur // 3)
                + drest
            )
            iname, _ = self.internal
            spans.append(
                head
                + b"\x12\x08"
                + sid[:4]
                + b"in00"
                + b"\x22\x08"
                + sid
                + iname
                + b"\x39"
                + struct.pack("<Q", ds)
                + b"\x41"
                + struct.pack("<Q", ds + dur // 2)
            )
        body = b"".join(ld(2, s) for s in spans)
        scope_spans = ld(2, ld(1, ld(1, b"bench")) + body)
        return ld(1, resource(service) + scope_spans)


def start_server(binary: str, data: str) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen(
        [binary, "--data", data, "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "listening on" not in line:
        raise SystemExit(f"server did not start: {line}")
    threading.Thread(target=proc.stdout.read, daemon=True).start()  # drain
    return proc, int(line.split("listening on http://")[1].split()[0].rsplit(":", 1)[1])


def load(port: int, target: int, seconds: float, keep_ids: list[bytes]) -> tuple[int, float]:
    q: queue.Queue[bytes | None] = queue.Queue(maxsize=8)
    errors: list[str] = []

    def sender() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while (body := q.get()) is not None:
            for attempt in range(20):
                conn.request("POST", "/v1/traces", body, {"Content-Type": "application/x-protobuf"})
                resp = conn.getresponse()
                resp.read()
                if resp.status == 200:
                    break
                if resp.status not in (429, 503):
                    errors.append(f"HTTP {resp.status}")
                    break
                time.sleep(0.05 * (attempt + 1))
        conn.close()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for t in threads:
        t.start()
    enc = Encoder(1)
    now = time.time_ns()
    t0 = time.monotonic()
    n = 0
    while n < target and time.monotonic() - t0 < seconds:
        service = SERVICES[(n // SPANS_PER_BATCH) % 3]
        q.put(
            enc.encode(service, SPANS_PER_BATCH // 3, now - 50 * 60 * NS, now - 30 * NS, keep_ids)
        )
        n += SPANS_PER_BATCH
    for _ in threads:
        q.put(None)
    for t in threads:
        t.join()
    if errors:
        print(f"load errors: {errors[:3]} ({len(errors)})", file=sys.stderr)
    return n, time.monotonic() - t0


def timeit(port: int, path: str, repeat: int) -> tuple[float, float, int]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    times = []
    status = 0
    for _ in range(repeat):
        t = time.perf_counter()
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        status = resp.status
        times.append((time.perf_counter() - t) * 1000)
    conn.close()
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(0.95 * len(times)))], status


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--spans", type=int, default=10_000_000)
    ap.add_argument("--load-seconds", type=float, default=120)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--settle", type=float, default=20, help="idle seconds after loading")
    ap.add_argument(
        "--search-minutes",
        type=int,
        default=5,
        help="the raw-span scans (search, errors, queries) cover this many minutes",
    )
    ap.add_argument("--server", default=os.environ.get("PYROMETER_SERVER_BIN", ""))
    args = ap.parse_args()
    binary = args.server
    if not binary:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
        from pyrometer.commands._server_bin import server_binary

        binary = server_binary()
    data = tempfile.mkdtemp(prefix="pyrometer-bench-query-")
    proc, port = start_server(binary, data)
    try:
        keep: list[bytes] = []
        loaded_at = time.time_ns()  # spans start in [loaded_at - 50 min, loaded_at - 30 s)
        n, secs = load(port, args.spans, args.load_seconds, keep)
        print(f"loaded {n:,} spans in {secs:.1f} s ({n / secs:,.0f} spans/s)")
        time.sleep(args.settle)  # let the server finish flushing the head before timing
        until = loaded_at - 30 * NS
        scan = f"since={until - args.search_minutes * 60 * NS}&until={until}"
        cases: list[tuple[str, str]] = [
            ("services", "/api/v1/services"),
            ("endpoints (sort=impact)", "/api/v1/services/gateway/endpoints"),
            ("timeseries rps step=1m", "/api/v1/timeseries?service=gateway&metric=rps&step=1m"),
            (
                "timeseries p95 route",
                "/api/v1/timeseries?service=gateway&metric=p95&step=1m&endpoint="
                + ROUTES[0].replace("{", "%7B").replace("}", "%7D"),
            ),
            (
                "traces search (status=error, limit 50)",
                f"/api/v1/traces?service=billing&status=error&limit=50&{scan}",
            ),
            ("errors", f"/api/v1/errors?{scan}"),
            ("queries", f"/api/v1/queries?service=catalog&{scan}"),
        ]
        print("| endpoint | p50 ms | p95 ms | calls |")
        print("|---|---|---|---|")
        heavy = {"traces search (status=error, limit 50)", "errors", "queries"}
        for name, path in cases:
            reps = max(3, args.repeat // 5) if name in heavy else args.repeat
            p50, p95, status = timeit(port, path, reps)
            assert status == 200, (path, status)
            print(f"| {name} | {p50:.1f} | {p95:.1f} | {reps} |")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        times = []
        for tid in random.Random(2).sample(keep, min(len(keep), 200)):
            t = time.perf_counter()
            conn.request("GET", "/api/v1/traces/" + tid.hex())
            resp = conn.getresponse()
            resp.read()
            assert resp.status == 200
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        p50, p95 = statistics.median(times), times[int(0.95 * len(times))]
        print(f"| trace by id | {p50:.2f} | {p95:.2f} | {len(times)} |")
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
