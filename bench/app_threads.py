"""Where a server's CPU goes, thread by thread: one case of bench/app_throughput.py, plain and
under ``pyrometer run``, each loaded by wrk in turn; for every thread of the server's process tree,
CPU per request (user and system) and context switches per request, from ``/proc/<pid>/task``.

The agent's own threads are named (``pyrometer-exp``: the exporter, ``pyrometer-gil``: the GIL
sampler), so their share reads apart from the request thread's. Rounds alternate plain and
pyrometer; the table gives medians. Extra environment for the instrumented server (e.g.
``OTEL_TRACES_SAMPLER=always_off``) goes in ``--env``.

    .venv/bin/python bench/app_threads.py --case fastapi-async [--rounds 3] [--env K=V ...]
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

_SCRIPT = Path(__file__).resolve()
sys.path.insert(0, str(_SCRIPT.parent))

import app_throughput as apps  # noqa: E402

# (utime+stime, utime, stime) in clock ticks, voluntary and involuntary switches.
Sample = tuple[int, int, int, int, int]


def thread_samples(root: int) -> dict[tuple[int, str], Sample]:
    """Per (tid, role) counters of every thread under ``root``. The role is ``p<n>:`` (the
    process's place in the tree: p0 the root, e.g. gunicorn's arbiter, p1 its first child) and
    the thread's name, or "main" for the process's first thread."""
    out: dict[tuple[int, str], Sample] = {}
    for index, pid in enumerate(apps.process_tree(root)):
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for task in tasks:
            base = f"/proc/{pid}/task/{task}"
            try:
                stat = Path(f"{base}/stat").read_text()
                status = Path(f"{base}/status").read_text()
            except OSError:
                continue
            name = stat[stat.index("(") + 1 : stat.rindex(")")]
            fields = stat[stat.rindex(")") + 2 :].split()
            utime, stime = int(fields[11]), int(fields[12])
            vol = int(re.search(r"^voluntary_ctxt_switches:\s+(\d+)", status, re.M).group(1))  # type: ignore[union-attr]
            nonvol = int(re.search(r"^nonvoluntary_ctxt_switches:\s+(\d+)", status, re.M).group(1))  # type: ignore[union-attr]
            role = f"p{index}:" + ("main" if int(task) == pid else name)
            out[(int(task), role)] = (utime + stime, utime, stime, vol, nonvol)
    return out


def measure(
    server: apps.Server, load: list[str], case: apps.Case, seconds: float
) -> dict[str, list[float]]:
    """One loaded run: per role, [cpu, user, sys] µs per request and [vol, nonvol] per request."""
    url = f"http://127.0.0.1:{server.port}{case.path}"
    before = thread_samples(server.proc.pid)
    _, requests = apps.wrk(load, url, seconds, case.connections)
    after = thread_samples(server.proc.pid)
    tick_us = 1e6 / apps.CLK_TCK
    roles: dict[str, list[float]] = collections.defaultdict(lambda: [0.0] * 5)
    for key, now in after.items():
        then = before.get(key, (0, 0, 0, 0, 0))
        delta = [a - b for a, b in zip(now, then)]
        acc = roles[key[1]]
        for i in range(3):
            acc[i] += delta[i] * tick_us / requests
        for i in (3, 4):
            acc[i] += delta[i] / requests
    return roles


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--case", default="flask-hello", choices=sorted(apps.CASES))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--env", nargs="*", default=[], metavar="K=V")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (make deps installs it)", file=sys.stderr)
        return 2
    extra = dict(kv.split("=", 1) for kv in args.env)
    case = apps.CASES[args.case]
    workdir = Path(tempfile.mkdtemp(prefix="pyrometer-threads-"))
    results: dict[str, dict[str, list[list[float]]]] = {}
    try:
        apps.write_apps(workdir)
        server_prefix, load_prefix = apps.pinning()
        collector = apps.Collector(workdir, load_prefix)
        os.environ.update(extra)  # servers() copies os.environ; the plain one is disabled anyway
        try:
            with apps.servers(case, workdir, collector, server_prefix) as started:
                for s in started:  # warm-up
                    apps.wrk(load_prefix, f"http://127.0.0.1:{s.port}{case.path}", 2,
                             case.connections)  # fmt: skip
                for _ in range(args.rounds):
                    for s in started:
                        roles = measure(s, load_prefix, case, args.seconds)
                        per_label = results.setdefault(s.label, {})
                        for role, values in roles.items():
                            per_label.setdefault(role, []).append(values)
                    time.sleep(0.5)
        finally:
            collector.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"case={args.case} rounds={args.rounds} seconds={args.seconds} env={extra or '-'}"
          f" python={sys.version.split()[0]}")  # fmt: skip
    print("| server | thread | cpu µs/req | user | sys | voluntary cs/req | involuntary cs/req |")
    print("|---|---|---|---|---|---|---|")
    for label, roles in results.items():
        for role, rows in sorted(
            roles.items(), key=lambda kv: -statistics.median(r[0] for r in kv[1])
        ):
            med = [statistics.median(r[i] for r in rows) for i in range(5)]
            if med[0] < 0.05 and med[3] < 0.0005:
                continue  # idle threads (gunicorn's arbiter, a parked sampler)
            print(f"| {label} | {role} | {med[0]:.1f} | {med[1]:.1f} | {med[2]:.1f} |"
                  f" {med[3]:.3f} | {med[4]:.3f} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
