"""Requests/s of real apps with and without ``pyrometer run``, side by side in one run.

Cases (each app is written to a temp dir; both variants of a case run at the same time, idle
except while wrk drives one of them):

- ``flask``: Flask under gunicorn (1 sync worker); ``GET /customers/<id>`` opens a sqlite3
  connection, runs two queries and renders a small Jinja template (from a file, so cached).
- ``flask-hello``: same server; ``GET /hello/<name>`` returning a small JSON object (the
  design's hello-world budget case for Flask).
- ``fastapi-async``: FastAPI under uvicorn (1 worker); ``async def`` route returning JSON.
- ``fastapi-db``: same server; a ``def`` route (run in Starlette's thread pool) doing the two
  sqlite3 queries and returning JSON.

The instrumented variant is ``pyrometer run -- <same command>`` exporting to a real
``pyrometer-server`` (the venv's binary, on a free loopback port, its own temp data dir), with
tracing at 100% (parentbased_always_on, the default). Load: ``wrk`` on loopback. With >= 2
cores the app servers are pinned to core 0 and wrk + the collector to core 1 (taskset).

Rounds interleave the variants (order alternates per round) so machine noise hits both alike.
With ``--concurrent`` both servers are loaded at the same time instead (two wrk processes), so
noise hits both at once: the CPU-per-request ratio is then steady to about a point, for A/B
work on the agent; the helper threads' preemptions then fall on both servers, so the default
alternating runs remain the throughput measurement.
Per case the medians of requests/s and of server CPU per request (utime+stime of the server's
whole process tree, exporter thread included, over the wrk run) are printed with the ratios,
plus the load average before and after. Spans accepted by the collector are printed as a check
that export really happened.

    .venv/bin/python bench/app_throughput.py [--rounds 7] [--seconds 5] [--cases ...] [--concurrent]

Budget (DESIGN.md section 5; a benchmark, never a test): instrumented >= 95% of plain req/s.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.resources
import os
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

BIN = Path(sys.executable).parent
CLK_TCK = os.sysconf("SC_CLK_TCK")

FLASK_APP = """
import os
import sqlite3

from flask import Flask, render_template

app = Flask(__name__)
DB = os.environ["BENCH_DB"]


@app.get("/hello/<name>")
def hello(name):
    return {"hello": name}


@app.get("/customers/<int:customer_id>")
def customer(customer_id):
    conn = sqlite3.connect(DB)
    conn.row_factory = sqlite3.Row
    try:
        row = conn.execute(
            "SELECT id, name, email FROM customers WHERE id = ?", (customer_id,)
        ).fetchone()
        orders = conn.execute(
            "SELECT id, sku, qty, total FROM orders WHERE customer_id = ? "
            "ORDER BY id DESC LIMIT 10", (customer_id,)
        ).fetchall()
    finally:
        conn.close()
    return render_template("customer.html", customer=row, orders=orders)
"""

CUSTOMER_TEMPLATE = """<h1>{{ customer.name }}</h1><p>{{ customer.email }}</p>
<table>{% for o in orders %}<tr><td>{{ o.id }}</td><td>{{ o.sku }}</td>
<td>{{ o.qty }}</td><td>{{ "%.2f"|format(o.total) }}</td></tr>{% endfor %}</table>
"""

FASTAPI_APP = """
import os
import sqlite3

from fastapi import FastAPI

app = FastAPI()
DB = os.environ["BENCH_DB"]


@app.get("/items/{item_id}")
async def item(item_id: int) -> dict:
    return {"id": item_id, "name": f"item {item_id}", "tags": ["a", "b"], "price": 9.5}


@app.get("/customers/{customer_id}")
def customer(customer_id: int) -> dict:
    conn = sqlite3.connect(DB)
    try:
        row = conn.execute(
            "SELECT id, name, email FROM customers WHERE id = ?", (customer_id,)
        ).fetchone()
        orders = conn.execute(
            "SELECT id, sku, qty, total FROM orders WHERE customer_id = ? "
            "ORDER BY id DESC LIMIT 10", (customer_id,)
        ).fetchall()
    finally:
        conn.close()
    return {"id": row[0], "name": row[1], "email": row[2],
            "orders": [{"id": o[0], "sku": o[1], "qty": o[2], "total": o[3]} for o in orders]}
"""


@dataclass
class Case:
    name: str
    argv: list[str]  # {port} is replaced
    path: str
    connections: int


CASES = {
    "flask": Case("flask", [str(BIN / "gunicorn"), "-w", "1", "-k", "sync", "-b",
                            "127.0.0.1:{port}", "flask_bench:app"], "/customers/7", 8),
    "flask-hello": Case("flask-hello", [str(BIN / "gunicorn"), "-w", "1", "-k", "sync", "-b",
                                        "127.0.0.1:{port}", "flask_bench:app"], "/hello/ada", 8),
    "fastapi-async": Case("fastapi-async", [str(BIN / "uvicorn"), "--host", "127.0.0.1",
                                            "--port", "{port}", "--no-access-log",
                                            "fastapi_bench:app"], "/items/7", 16),
    "fastapi-db": Case("fastapi-db", [str(BIN / "uvicorn"), "--host", "127.0.0.1", "--port",
                                      "{port}", "--no-access-log", "fastapi_bench:app"],
                       "/customers/7", 16),
}  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: server exited with {proc.returncode}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer 200 in {timeout}s")


def pinning() -> tuple[list[str], list[str]]:
    """taskset prefixes for (servers, load): core 0 and core 1 when there are two cores."""
    if shutil.which("taskset") is None or (os.cpu_count() or 1) < 2:
        return [], []
    return ["taskset", "-c", "0"], ["taskset", "-c", "1"]


def make_db(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT);"
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, sku TEXT,"
        " qty INTEGER, total REAL);"
        "CREATE INDEX orders_customer ON orders (customer_id);"
    )
    conn.executemany(
        "INSERT INTO customers VALUES (?, ?, ?)",
        [(i, f"customer {i}", f"c{i}@example.com") for i in range(1, 201)],
    )
    conn.executemany(
        "INSERT INTO orders (customer_id, sku, qty, total) VALUES (?, ?, ?, ?)",
        [(1 + i % 200, f"SKU-{i % 97}", 1 + i % 5, 3.5 * (1 + i % 11)) for i in range(8000)],
    )
    conn.commit()
    conn.close()


class Collector:
    """pyrometer-server on a free loopback port in its own data dir."""

    def __init__(self, workdir: Path, prefix: list[str]) -> None:
        binary = Path(str(importlib.resources.files("pyrometer") / "bin/pyrometer-server"))
        data, out = workdir / "collector", workdir / "collector.out"
        self._out = open(out, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [*prefix, str(binary), "--data", str(data), "--listen", "127.0.0.1:0"],
            stdout=self._out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            m = re.search(r"listening on http://(\S+):(\d+) ", out.read_text(errors="replace"))
            if m:
                self.url = f"http://127.0.0.1:{m.group(2)}"
                wait_http(self.url + "/healthz", self.proc)
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("pyrometer-server did not start: " + out.read_text(errors="replace"))

    def spans_accepted(self) -> int:
        with urllib.request.urlopen(self.url + "/metrics", timeout=5) as r:
            text = r.read().decode()
        m = re.search(
            r'^pyrometer_server_ingest_items_accepted_total\{signal="traces"\} (\d+)', text, re.M
        )
        return int(m.group(1)) if m else -1

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._out.close()


def process_tree(root: int) -> list[int]:
    """``root`` and all its descendants, root first, then each generation in pid order."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        parents[int(entry)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    tree, seen = [root], {root}
    for pid in tree:  # grows while walked: breadth first
        for child in sorted(c for c, parent in parents.items() if parent == pid):
            if child not in seen:
                seen.add(child)
                tree.append(child)
    return tree


def process_tree_cpu(root: int) -> float:
    """utime+stime (seconds) of ``root`` and all its descendants, threads included."""
    ticks = 0
    for pid in process_tree(root):
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / CLK_TCK


def write_apps(workdir: Path) -> None:
    """The benchmark apps, their template and their sqlite database, into ``workdir``."""
    (workdir / "flask_bench.py").write_text(textwrap.dedent(FLASK_APP))
    (workdir / "fastapi_bench.py").write_text(textwrap.dedent(FASTAPI_APP))
    (workdir / "templates").mkdir()
    (workdir / "templates" / "customer.html").write_text(CUSTOMER_TEMPLATE)
    make_db(workdir / "bench.db")


@dataclass
class Server:
    label: str
    proc: subprocess.Popen
    port: int
    log: object
    rps: list[float] = field(default_factory=list)
    cpu_us: list[float] = field(default_factory=list)


@contextlib.contextmanager
def servers(
    case: Case, workdir: Path, collector: Collector, prefix: list[str]
) -> Iterator[list[Server]]:
    started: list[Server] = []
    try:
        for label in ("plain", "pyrometer"):
            port = free_port()
            argv = [a.replace("{port}", str(port)) for a in case.argv]
            env = dict(os.environ, BENCH_DB=str(workdir / "bench.db"), PYTHONPATH=str(workdir))
            env["PATH"] = f"{BIN}{os.pathsep}{os.environ['PATH']}"
            if label == "pyrometer":
                argv = [str(BIN / "pyrometer"), "run", "--", *argv]
                env.update(OTEL_EXPORTER_OTLP_ENDPOINT=collector.url,
                           OTEL_SERVICE_NAME=f"bench-{case.name}")  # fmt: skip
            else:
                env["PYROMETER_ENABLED"] = "false"  # belt and braces: never instrumented
            log = open(workdir / f"{case.name}-{label}.log", "wb")  # noqa: SIM115
            proc = subprocess.Popen([*prefix, *argv], env=env, cwd=workdir, stdout=log,
                                    stderr=subprocess.STDOUT)  # fmt: skip
            started.append(Server(label, proc, port, log))
            wait_http(f"http://127.0.0.1:{port}{case.path}", proc)
        yield started
    finally:
        for s in started:
            if s.proc.poll() is None:
                s.proc.send_signal(signal.SIGTERM)
                try:
                    s.proc.wait(20)
                except subprocess.TimeoutExpired:
                    s.proc.kill()
                    s.proc.wait()
            s.log.close()  # type: ignore[attr-defined]


def wrk(prefix: list[str], url: str, seconds: float, connections: int) -> tuple[float, int]:
    return wrk_result(wrk_start(prefix, url, seconds, connections))


def wrk_start(prefix: list[str], url: str, seconds: float, connections: int) -> subprocess.Popen:
    return subprocess.Popen(
        [*prefix, "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", url],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def wrk_result(proc: subprocess.Popen) -> tuple[float, int]:
    """(requests/s, requests) of a finished wrk run."""
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}):\n{err}")
    if "Non-2xx" in out or "Socket errors" in out and "timeout" in out:
        raise RuntimeError(f"wrk saw errors:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return rps, total


def run_case(
    case: Case, workdir: Path, collector: Collector, rounds: int, seconds: float,
    concurrent: bool = False,
) -> list[Server]:  # fmt: skip
    server_prefix, load_prefix = pinning()
    with servers(case, workdir, collector, server_prefix) as pair:
        for s in pair:  # warm-up: imports, first-request caches, jinja compile, JIT-less PyPy...
            wrk(load_prefix, f"http://127.0.0.1:{s.port}{case.path}", 2, case.connections)
        if concurrent:
            run_concurrent(case, pair, load_prefix, rounds, seconds)
            return pair
        for r in range(rounds):
            for s in pair if r % 2 == 0 else reversed(pair):
                cpu0 = process_tree_cpu(s.proc.pid)
                rps, total = wrk(load_prefix, f"http://127.0.0.1:{s.port}{case.path}", seconds,
                                 case.connections)  # fmt: skip
                cpu = process_tree_cpu(s.proc.pid) - cpu0
                s.rps.append(rps)
                s.cpu_us.append(cpu / max(total, 1) * 1e6)
                print(f"  {case.name} round {r + 1} {s.label:9s} {rps:9.1f} req/s "
                      f"{s.cpu_us[-1]:7.1f} cpu µs/req", flush=True)  # fmt: skip
    return pair


def run_concurrent(
    case: Case, pair: list[Server], load_prefix: list[str], rounds: int, seconds: float
) -> None:
    """Both servers loaded at the same time, sharing their core: whatever else runs on the
    machine then slows both alike, so the CPU-per-request ratio is steady to about a point where
    the alternating runs move by five or more. Requests/s only says how the core was shared."""
    for r in range(rounds):
        cpu0 = [process_tree_cpu(s.proc.pid) for s in pair]
        loads = [wrk_start(load_prefix, f"http://127.0.0.1:{s.port}{case.path}", seconds,
                           case.connections) for s in pair]  # fmt: skip
        for s, c0, load in zip(pair, cpu0, loads):
            rps, total = wrk_result(load)
            s.rps.append(rps)
            s.cpu_us.append((process_tree_cpu(s.proc.pid) - c0) / max(total, 1) * 1e6)
        print(f"  {case.name} round {r + 1} "
              + "  ".join(f"{s.label} {s.cpu_us[-1]:7.1f} cpu µs/req" for s in pair)
              + f"  ratio {pair[0].cpu_us[-1] / pair[1].cpu_us[-1]:.1%}", flush=True)  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument(
        "--concurrent", action="store_true",
        help="load both servers at once on their shared core and compare CPU per request "
        "(low noise, for A/B work; the default alternating runs give the throughput ratio)",
    )  # fmt: skip
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (make deps installs it)", file=sys.stderr)
        return 2
    load_before = os.getloadavg()
    workdir = Path(tempfile.mkdtemp(prefix="pyrometer-app-bench-"))
    results: list[tuple[str, list[Server]]] = []
    try:
        write_apps(workdir)
        _, load_prefix = pinning()
        collector = Collector(workdir, load_prefix)
        try:
            for name in args.cases.split(","):
                results.append((name, run_case(CASES[name], workdir, collector, args.rounds,
                                               args.seconds, args.concurrent)))  # fmt: skip
            time.sleep(1.0)  # the agents export every second or so; let the last batch land
            accepted = collector.spans_accepted()
        finally:
            collector.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    load_after = os.getloadavg()
    print()
    print(
        f"rounds={args.rounds} seconds={args.seconds} pinned={'yes' if pinning()[0] else 'no'}"
        f" concurrent={'yes' if args.concurrent else 'no'} python={sys.version.split()[0]}"
    )
    if args.concurrent:
        print("(concurrent: req/s is the shared core's split; compare the cpu columns)")
    print("| case | plain req/s | pyrometer req/s | ratio | plain cpu µs/req |"
          " pyrometer cpu µs/req | cpu ratio |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for name, (plain, traced) in results:
        p, t = statistics.median(plain.rps), statistics.median(traced.rps)
        pc, tc = statistics.median(plain.cpu_us), statistics.median(traced.cpu_us)
        print(f"| {name} | {p:.0f} | {t:.0f} | {t / p:.1%} | {pc:.0f} | {tc:.0f} |"
              f" {pc / tc:.1%} |")  # fmt: skip
    print(f"spans accepted by the collector: {accepted}")
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*load_before))
    print("load average after:  {:.2f} {:.2f} {:.2f}".format(*load_after))
    return 0


if __name__ == "__main__":
    sys.exit(main())
