"""CPU cost of the GIL sampler thread, with and without GIL wait sampling at work.

Runs child interpreters with the agent sampling continuously (gil_duty=1.0) and reads the CPU
time (run time in ns, /proc/self/task/<tid>/schedstat) of the busiest non-Python thread — the GIL
sampler — over a window, in interleaved rounds of three scenarios:

- idle:    main asleep, N extra threads asleep: the GIL is free, so no /proc file is read
           (this is the cost of the held/switch sampling alone);
- spin:    2 CPU-bound threads: the GIL is always held, the other spinner and main are read;
- spin+N:  2 CPU-bound threads and N threads blocked on a lock: every tick reads N+2 files.

Prints the median CPU share of one core per scenario (duty 1.0; the default duty 0.2 costs a
fifth) and the load average. Usage: python bench/gil_wait_cost.py [--rounds 5] [--threads 30]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import textwrap

CHILD = textwrap.dedent(
    """
    import json, os, sys, threading, time
    from pyrometer import _native as n
    scenario, extra, window = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    n.start_pipeline(service_name="bench", resource_attributes={},
                     traces_url="http://127.0.0.1:9/v1/traces",
                     metrics_url="http://127.0.0.1:9/v1/metrics",
                     logs_url="http://127.0.0.1:9/v1/logs", headers={},
                     export_interval_s=600.0, metrics_interval_s=600.0, flush_timeout_s=0.1,
                     max_queue_spans=16, gil_duty=1.0)
    n._test_emit_spans(1, "warm-up", keep=False)
    stop = False
    lock = threading.Lock()
    lock.acquire()
    def spin():
        x = 0
        while not stop:
            x += 1
    threads = []
    if scenario != "idle":
        threads += [threading.Thread(target=spin, daemon=True) for _ in range(2)]
    if scenario != "spin":
        target = lock.acquire if scenario == "spin+N" else (lambda: time.sleep(window + 5))
        threads += [threading.Thread(target=target, daemon=True) for _ in range(extra)]
    for t in threads:
        t.start()
    time.sleep(0.2)
    s = n.gil_stats()  # maps every thread
    python_tids = {t.native_id for t in threading.enumerate()}

    def cpu():
        out = {}
        for tid in os.listdir("/proc/self/task"):
            if int(tid) in python_tids:
                continue
            with open(f"/proc/self/task/{tid}/schedstat") as f:
                out[tid] = int(f.read().split()[0])
        return out

    a, t0 = cpu(), time.monotonic()
    time.sleep(window)
    b, t1 = cpu(), time.monotonic()
    e = n.gil_stats()
    busiest = max((b[k] - a.get(k, 0)) for k in b)
    print(json.dumps({"share": busiest / 1e9 / (t1 - t0),
                      "ticks": e["wait_ticks"] - s["wait_ticks"],
                      "reads_per_tick": extra + 2 if scenario == "spin+N" else 0}), flush=True)
    stop = True
    lock.release()
    os._exit(0)
    """
)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=30)
    ap.add_argument("--window", type=float, default=3.0)
    args = ap.parse_args()
    scenarios = ["idle", "spin", "spin+N"]
    shares: dict[str, list[float]] = {s: [] for s in scenarios}
    ticks: dict[str, list[int]] = {s: [] for s in scenarios}
    for _ in range(args.rounds):
        for s in scenarios:  # interleaved rounds
            out = subprocess.run(
                [sys.executable, "-c", CHILD, s, str(args.threads), str(args.window)],
                capture_output=True,
                text=True,
                check=True,
                timeout=120,
            ).stdout
            r = json.loads(out.strip().splitlines()[-1])
            shares[s].append(r["share"])
            ticks[s].append(r["ticks"])
    for s in scenarios:
        print(
            f"{s:8s} sampler CPU {100 * statistics.median(shares[s]):.2f}% of a core at duty 1.0"
            f" (rounds {[round(100 * x, 2) for x in shares[s]]}), wait ticks/s "
            f"{statistics.median(ticks[s]) / args.window:.0f}"
        )
    print("load average:", " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
