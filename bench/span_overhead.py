"""Cost per span of an empty ``with pyrometer.span("x"):`` against the OpenTelemetry Python SDK.

Both run in one process, in interleaved rounds (so machine noise hits both alike); the median
per-span cost of each is printed with the ratio. Cost is the calling thread's CPU time
(time.thread_time_ns), so a loaded machine's preemption does not count; wall time is printed
too. The OTel batch worker thread's CPU is not counted (in OTel's favour).

The OTel SDK is configured as in production: a TracerProvider with a BatchSpanProcessor feeding
an exporter that drops everything. Pyrometer runs as ``pyrometer run`` would configure it
(parentbased_always_on, local tail keep), with its export pipeline started when this build has
one, pointed at a closed loopback port (the queue fills, so spans are dropped and counted after
RED aggregation) or, with --sink, at a local collector process that accepts everything (the
exporter ships what it can; a tight loop still outruns it, so some spans are dropped).

    .venv/bin/python bench/span_overhead.py [--rounds 30] [--spans 20000] [--no-pipeline|--sink]
        [--pin CPU]
    .venv/bin/python bench/span_overhead.py --instructions [--no-pipeline]

--instructions counts the calling thread's instructions per span under valgrind's callgrind
(closed port, or the tracer alone): runs of 20,000 and 40,000 spans after a warm-up, their
difference per span, minus the same for the empty loop. Exact where time is noisy, but with the
pipeline it moves by ~1% between runs: how many spans the full queue refuses (and so aggregates
on this thread) depends on the exporter thread's timing.

--pin runs everything (this process, its exporter thread, the sink) on one CPU: on a shared
two-vCPU machine the unpinned --sink figure swings between two modes (where the scheduler puts
the exporter and the sink relative to the measured thread); pinned, it is steady.

Targets (DESIGN.md section 5, not a test): <= 0.5 us per span and >= 20x cheaper than OTel.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))
import callgrind  # noqa: E402

# A collector that accepts everything (a separate process, so it costs this one nothing):
# prints its port, then answers every POST with 200 and an empty body.
_SINK = """
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
"""


def start_sink() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-c", _SINK], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, f"http://127.0.0.1:{proc.stdout.readline().strip()}"


def pyrometer_case(
    pipeline: bool, endpoint: str
) -> tuple[Callable[[int], tuple[float, float]], str]:
    from pyrometer import api, config

    cfg = config.load(
        env={"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_SERVICE_NAME": "span-overhead-bench"}
    )
    from pyrometer import _native

    if pipeline:
        api._start(cfg)
        state = "started" if hasattr(_native, "start_pipeline") else "absent in this build"
    else:  # the tracer alone: same sampler and tail keep, nothing aggregated or queued
        _native.configure(cfg.sampler, str(cfg.sampler_arg), cfg.tail_keep)
        state = "not started"
    span = api.span

    def run(n: int) -> float:
        t0, w0 = time.thread_time_ns(), time.perf_counter_ns()
        for _ in range(n):
            with span("x"):
                pass
        return (time.thread_time_ns() - t0) / n, (time.perf_counter_ns() - w0) / n

    return run, f"pyrometer (pipeline {state})"


def otel_case() -> Callable[[int], tuple[float, float]]:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        SpanExporter,
        SpanExportResult,
    )

    class NoopExporter(SpanExporter):
        def export(self, spans: object) -> SpanExportResult:
            return SpanExportResult.SUCCESS

        def shutdown(self) -> None:
            pass

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(NoopExporter()))
    tracer = provider.get_tracer("bench")

    def run(n: int) -> float:
        t0, w0 = time.thread_time_ns(), time.perf_counter_ns()
        for _ in range(n):
            with tracer.start_as_current_span("x"):
                pass
        return (time.thread_time_ns() - t0) / n, (time.perf_counter_ns() - w0) / n

    return run


def empty_loop(n: int) -> tuple[float, float]:
    t0, w0 = time.thread_time_ns(), time.perf_counter_ns()
    for _ in range(n):
        pass
    return (time.thread_time_ns() - t0) / n, (time.perf_counter_ns() - w0) / n


def instructions(pipeline: bool) -> int:
    """Instructions per span of the calling thread, under callgrind (see the module doc)."""
    low, high = 20000, 40000
    out_dir = Path(tempfile.mkdtemp(prefix="pyrometer-callgrind-"))
    per_span = {}
    for case in ("pyrometer" if pipeline else "tracer", "loop"):
        counts = []
        for n in (low, high):
            command = [sys.executable, __file__, "--one", case, str(n)]
            counts.append(callgrind.thread_counts(command, out_dir / f"{case}-{n}.cg")[0])
        per_span[case] = (counts[1] - counts[0]) / (high - low)
    span = per_span["pyrometer" if pipeline else "tracer"] - per_span["loop"]
    state = "pipeline started, closed port" if pipeline else "tracer alone"
    print(f"python {sys.version.split()[0]}, {high - low} spans measured (callgrind)")
    print(f"[instructions] pyrometer ({state}) {span:,.0f} per span "
          f"(loop iteration {per_span['loop']:,.0f} more)")  # fmt: skip
    return 0


def one(case: str, n: int) -> int:
    """A child of --instructions: a warm-up, then n spans (or empty iterations) of one case."""
    if case == "loop":
        empty_loop(2000), empty_loop(n)
        return 0
    run = pyrometer_case(case == "pyrometer", "http://127.0.0.1:9")[0]
    run(2000), run(n)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--spans", type=int, default=20000, help="spans per round and case")
    parser.add_argument(
        "--no-pipeline", action="store_true", help="measure the tracer alone (no export pipeline)"
    )
    parser.add_argument(
        "--sink",
        action="store_true",
        help="export to a local collector that accepts everything (default: a closed port)",
    )
    parser.add_argument(
        "--pin", type=int, metavar="CPU", help="run this process, its threads and the sink on CPU"
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="count instructions per span under valgrind's callgrind instead of timing",
    )
    parser.add_argument("--one", nargs=2, metavar=("CASE", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        return one(args.one[0], int(args.one[1]))
    if args.instructions:
        return instructions(not args.no_pipeline)
    if args.pin is not None:
        os.sched_setaffinity(0, {args.pin})  # inherited by threads and the sink started later

    sink, endpoint = start_sink() if args.sink else (None, "http://127.0.0.1:9")
    try:
        return measure(args, endpoint)
    finally:
        if sink is not None:
            sink.kill()
            sink.wait()


def measure(args: argparse.Namespace, endpoint: str) -> int:
    pyro, label = pyrometer_case(not args.no_pipeline, endpoint)
    if not args.no_pipeline:
        label += ", sink" if args.sink else ", closed port"
    otel = otel_case()
    pyro(1000), otel(1000)  # warm-up: imports, caches, first allocations
    ours, theirs, loop = [], [], []
    for _ in range(args.rounds):
        ours.append(pyro(args.spans))
        theirs.append(otel(max(1, args.spans // 10)))  # ~50x slower: fewer spans
        loop.append(empty_loop(args.spans))
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    pinned = f", pinned to CPU {args.pin}" if args.pin is not None else ""
    print(
        f"python {sys.version.split()[0]}, {args.rounds} interleaved rounds{pinned}, "
        f"load average {load}"
    )
    results = {}
    for i, what in enumerate(("cpu", "wall")):
        base = statistics.median(x[i] for x in loop)
        p = statistics.median(x[i] for x in ours) - base
        o = statistics.median(x[i] for x in theirs) - base
        results[what] = (p, o)
        print(f"[{what}] {label:40s} {p / 1000:8.3f} us/span")
        print(f"[{what}] {'opentelemetry-sdk (BatchSpanProcessor)':40s} {o / 1000:8.3f} us/span")
        print(f"[{what}] {'ratio (otel / pyrometer)':40s} {o / p:8.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
