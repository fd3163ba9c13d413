"""Where an instrumented request's CPU goes: the apps of bench/app_throughput.py driven in-process
(no sockets, no server), plain and traced alternating in one process, calling thread's CPU time.

Cases, each as medians of interleaved rounds (µs of CPU per request):

- ``fastapi``: the FastAPI app's ``async def`` route through the ASGI app callable; ``plain``,
  ``native`` (the same request inside a bare native SERVER span with the same 9 attributes,
  status, route and rename: the tracer's own cost) and ``traced`` (the Starlette integration).
- ``flask-hello``: the Flask ``/hello/<name>`` route (a small JSON response) through the WSGI
  callable; ``plain`` and ``traced`` as for ``flask``.
- ``flask``: the Flask route (sqlite3 connect + 2 queries + template) through the WSGI callable;
  ``plain`` and ``traced`` (Flask and sqlite3 patched; the app wrapped as gunicorn would: not
  at all, since a patched Flask traces itself).
- ``sqlite``: connect + the route's two queries + close; ``plain``, ``wrapped`` (integration
  patched, statement spans suppressed: the wrapper classes alone) and ``traced``.
- ``statement``: one query on an already open connection; ``plain``, ``traced`` (the native
  ``traced_statement``) and ``traced (Python span path)`` (the integration's Python fallback).

The agent runs as ``pyrometer run`` configures it, exporting to a closed loopback port, so the
exporter thread's work is not in these figures (bench/app_throughput.py has it).

    .venv/bin/python bench/app_inprocess.py [--rounds 11]
    .venv/bin/python bench/app_inprocess.py --instructions   # per request, under callgrind
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

_SCRIPT = Path(__file__).resolve()
sys.path.insert(0, str(_SCRIPT.parent))

import app_throughput as apps  # noqa: E402
import callgrind  # noqa: E402


def cpu_us(fn: Callable[[], Any], n: int) -> float:
    t0 = time.thread_time_ns()
    for _ in range(n):
        fn()
    return (time.thread_time_ns() - t0) / n / 1000


def interleave(cases: dict[str, Callable[[int], float]], rounds: int) -> dict[str, float]:
    results: dict[str, list[float]] = {name: [] for name in cases}
    for fn in cases.values():
        fn(50)  # warm-up
    names = list(cases)
    for r in range(rounds):
        for name in names if r % 2 == 0 else reversed(names):
            results[name].append(cases[name](0))
    return {name: statistics.median(v) for name, v in results.items()}


def fastapi_cases(n: int) -> dict[str, Callable[[int], float]]:
    import fastapi_bench  # type: ignore[import-not-found]

    from pyrometer import _native
    from pyrometer.integrations import starlette

    app = fastapi_bench.app
    attrs = {
        "http.request.method": "GET",
        "url.path": "/items/7",
        "url.scheme": "http",
        "server.address": "127.0.0.1",
        "server.port": 8000,
        "client.address": "127.0.0.1",
        "client.port": 5555,
        "user_agent.original": "wrk",
        "network.protocol.version": "1.1",
    }

    def scope() -> dict[str, Any]:
        return {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/items/7",
            "raw_path": b"/items/7",
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"wrk"), (b"accept", b"*/*")],
            "client": ("127.0.0.1", 5555),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        pass

    async def native(s: Any, r: Any, w: Any) -> None:
        span = _native.start_span("GET", 2, attrs)
        token = _native.attach(span)
        try:
            await app(s, r, w)
        finally:
            _native.detach(token)
            span.set_attribute("http.response.status_code", 200)
            span.set_attribute("http.route", "/items/{item_id}")
            span.update_name("GET /items/{item_id}")
            span.end()

    loop = asyncio.new_event_loop()

    def measure(target: Any, patched: bool) -> Callable[[int], float]:
        async def many(count: int) -> float:
            t0 = time.thread_time_ns()
            for _ in range(count):
                await target(scope(), receive, send)
            return (time.thread_time_ns() - t0) / count / 1000

        def run(count: int) -> float:
            (starlette.patch if patched else starlette.unpatch)()
            try:
                return loop.run_until_complete(many(count or n))
            finally:
                starlette.unpatch()

        return run

    return {
        "plain": measure(app, False),
        "native": measure(native, False),
        "traced": measure(app, True),
    }


def flask_cases(n: int, path: str = "/customers/7") -> dict[str, Callable[[int], float]]:
    import flask_bench  # type: ignore[import-not-found]

    from pyrometer.integrations import flask as flask_integration
    from pyrometer.integrations import sqlite3 as sqlite_integration
    from pyrometer.integrations import wsgi

    app = flask_bench.app

    def environ() -> dict[str, Any]:
        return {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "SCRIPT_NAME": "",
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "HTTP_HOST": "127.0.0.1:8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_USER_AGENT": "wrk",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
            "wsgi.version": (1, 0),
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        pass

    def request(target: Any) -> None:
        body = target(environ(), start_response)
        for _ in body:
            pass
        close = getattr(body, "close", None)
        if close is not None:
            close()

    def measure(patched: bool) -> Callable[[int], float]:
        def run(count: int) -> float:
            if patched:
                flask_integration.patch()
                sqlite_integration.patch()
            # What gunicorn's load_wsgi does once the app's modules are imported (and patched).
            target = app
            if patched and not wsgi.traces_itself(app):
                target = wsgi.wrap_app(app, "gunicorn")
            try:
                return cpu_us(lambda: request(target), count or n)
            finally:
                flask_integration.unpatch()
                sqlite_integration.unpatch()

        return run

    return {"plain": measure(False), "traced": measure(True)}


def sqlite_cases(n: int) -> dict[str, Callable[[int], float]]:
    import sqlite3

    from pyrometer.integrations import _common
    from pyrometer.integrations import sqlite3 as sqlite_integration

    db = os.environ["BENCH_DB"]

    def queries() -> None:
        conn = sqlite3.connect(db)
        conn.execute("SELECT id, name, email FROM customers WHERE id = ?", (7,)).fetchone()
        conn.execute(
            "SELECT id, sku, qty, total FROM orders WHERE customer_id = ? ORDER BY id DESC "
            "LIMIT 10",
            (7,),
        ).fetchall()
        conn.close()

    def measure(patched: bool, suppressed: bool = False) -> Callable[[int], float]:
        def run(count: int) -> float:
            if patched:
                sqlite_integration.patch()
            try:
                if suppressed:
                    with _common.suppress_db():
                        return cpu_us(queries, count or n)
                return cpu_us(queries, count or n)
            finally:
                sqlite_integration.unpatch()

        return run

    return {"plain": measure(False), "wrapped": measure(True, True), "traced": measure(True)}


def statement_cases(n: int) -> dict[str, Callable[[int], float]]:
    """One statement on an open connection, 10x the requests per round: the statement span
    alone, without connect/close."""
    import sqlite3

    from pyrometer.integrations import dbapi
    from pyrometer.integrations import sqlite3 as sqlite_integration

    db = os.environ["BENCH_DB"]
    sql = "SELECT id, name, email FROM customers WHERE id = ?"
    plain = sqlite3.connect(db)
    sqlite_integration.patch()
    try:
        traced = sqlite3.connect(db)
    finally:
        sqlite_integration.unpatch()

    def measure(conn: Any, native: bool) -> Callable[[int], float]:
        def run(count: int) -> float:
            dbapi._traced_statement = None if native else False  # False: the Python path
            try:
                return cpu_us(lambda: conn.execute(sql, (7,)).fetchone(), 10 * (count or n))
            finally:
                dbapi._traced_statement = None

        return run

    return {
        "plain": measure(plain, True),
        "traced (Python span path)": measure(traced, False),
        "traced": measure(traced, True),
    }


def flask_hello_cases(n: int) -> dict[str, Callable[[int], float]]:
    return flask_cases(n, "/hello/ada")


CASES: dict[str, Callable[[int], dict[str, Callable[[int], float]]]] = {
    "fastapi": fastapi_cases,
    "flask-hello": flask_hello_cases,
    "flask": flask_cases,
    "sqlite": sqlite_cases,
    "statement": statement_cases,
}
INSTRUCTION_CASES = ("fastapi", "flask-hello", "statement")
UNITS_PER_REQUEST = {"statement": 10}  # its "request" is 10 statements (see statement_cases)


def setup() -> None:
    """Writes the apps to a temp dir, makes it the working directory, starts the agent."""
    work = Path(tempfile.mkdtemp(prefix="pyrometer-inprocess-"))
    apps.write_apps(work)
    os.environ["BENCH_DB"] = str(work / "bench.db")
    os.chdir(work)
    sys.path.insert(0, str(work))

    from pyrometer import api, config

    api._start(config.load(env={"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9",
                                "OTEL_SERVICE_NAME": "app-inprocess-bench"}))  # fmt: skip


def callgrind_counts(case: str, variant: str, requests: int, out_dir: Path) -> tuple[int, int]:
    """Instructions executed (calling thread, all other threads) by a child process that sets up
    and serves ``requests`` requests of ``case``/``variant``, under callgrind."""
    out = out_dir / f"{case}-{variant.split()[0]}-{requests}.cg"
    command = [sys.executable, str(_SCRIPT), "--one", case, variant, str(requests)]
    return callgrind.thread_counts(command, out)


def instructions(requests: int) -> None:
    """Instructions per request under callgrind: exact and immune to a noisy machine (time is
    not, and instructions are not time: a cache miss costs no instruction). Two runs per variant,
    ``requests`` and 6x that; their difference leaves out start-up and first-request work."""
    low, high = requests, 6 * requests
    print(f"instructions per request (callgrind; statement: per statement), {high - low} "
          "requests measured per variant")  # fmt: skip
    print("| case | variant | calling thread | agent threads | calling thread vs plain |")
    print("|---|---|---|---|---|")
    out_dir = Path(tempfile.mkdtemp(prefix="pyrometer-callgrind-"))
    for case in INSTRUCTION_CASES:
        plain = None
        for variant in CASES[case](1):
            lo = callgrind_counts(case, variant, low, out_dir)
            hi = callgrind_counts(case, variant, high, out_dir)
            units = (high - low) * UNITS_PER_REQUEST.get(case, 1)
            main_thread, others = ((h - lo_) / units for h, lo_ in zip(hi, lo))
            plain = main_thread if plain is None else plain
            extra = f"{main_thread - plain:+,.0f} ({(main_thread / plain - 1) * 100:+.1f}%)"
            print(f"| {case} | {variant} | {main_thread:,.0f} | {others:,.0f} | {extra} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument(
        "--instructions", action="store_true",
        help="count instructions per request under valgrind's callgrind instead of timing",
    )  # fmt: skip
    parser.add_argument("--one", nargs=3, metavar=("CASE", "VARIANT", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    setup()
    if args.instructions:
        instructions(min(args.requests, 200))
        return 0
    if args.one:  # a child of --instructions: serve N requests of one variant, once
        case, variant, count = args.one
        CASES[case](int(count))[variant](int(count))
        return 0
    load = os.getloadavg()
    print(f"rounds={args.rounds} requests/round={args.requests} python={sys.version.split()[0]}")
    print("| case | variant | cpu µs/request | overhead vs plain |")
    print("|---|---|---|---|")
    for name, make in CASES.items():
        medians = interleave(make(args.requests), args.rounds)
        for variant, value in medians.items():
            extra = value - medians["plain"]
            print(f"| {name} | {variant} | {value:.1f} | {extra:+.1f} µs |")
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*load))
    print("load average after:  {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
