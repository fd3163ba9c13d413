"""`pyrometer demo`: runs the server in the foreground and prints the UI address until Ctrl-C.

Until the demo system lands this starts only pyrometer-server with data in ./.pyrometer-demo.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request

from pyrometer.commands._server_bin import ServerBinaryMissing, server_binary

HEALTH_TIMEOUT_S = 10.0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="start a local server and print the UI address",
        description="Start pyrometer-server in the foreground and print the UI address.",
    )
    p.add_argument("--data", metavar="DIR", default=".pyrometer-demo", help="data directory")
    p.add_argument("--listen", metavar="HOST:PORT", default="127.0.0.1:8321")
    p.set_defaults(handler=main)


def _healthy(base: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(base + "healthz", timeout=1.0) as response:
            return 200 <= response.status < 300
    except OSError:  # URLError, connection refused, timeout
        return False


def _stop(proc: subprocess.Popen) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            print("pyrometer demo: server did not stop in 10 s; killing it", file=sys.stderr)
            proc.kill()
            proc.wait()
    return proc.returncode


def _print_log(path: str) -> None:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            sys.stderr.write(fh.read()[-8000:])
    except OSError as exc:
        print(f"pyrometer demo: cannot read server log {path}: {exc}", file=sys.stderr)


def main(args: argparse.Namespace) -> int:
    try:
        binary = server_binary()
    except ServerBinaryMissing as exc:
        print(f"pyrometer demo: {exc}", file=sys.stderr)
        return 1
    os.makedirs(args.data, exist_ok=True)
    log_path = os.path.join(args.data, "server.log")
    base = f"http://{args.listen}/"
    stopping: list[int] = []

    def on_signal(signum: int, frame: object) -> None:
        stopping.append(signum)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [binary, "--data", args.data, "--listen", args.listen], stdout=log, stderr=log
        )
    try:
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        while not _healthy(base):
            if proc.poll() is not None or time.monotonic() > deadline or stopping:
                if stopping:
                    return 128 + stopping[0] if _stop(proc) is not None else 1
                why = "exited" if proc.poll() is not None else "did not answer /healthz in 10 s"
                print(f"pyrometer demo: the server {why}; its output:", file=sys.stderr)
                _stop(proc)
                _print_log(log_path)
                return proc.returncode or 1
            time.sleep(0.1)
        print(f"Pyrometer UI: {base}", flush=True)
        print(
            f"(no web UI in this version yet: the query API is at {base}api/v1/, "
            f"OTLP ingest at {base}v1/, Prometheus metrics at {base}metrics)"
        )
        print(f"(data in {os.path.abspath(args.data)}, server log {log_path}; Ctrl-C stops)")
        while not stopping and proc.poll() is None:
            time.sleep(0.2)
        if not stopping:
            code = proc.returncode
            print(f"pyrometer demo: the server exited ({code}); its output:", file=sys.stderr)
            _print_log(log_path)
            return proc.returncode or 1
        code = _stop(proc)
        print(f"pyrometer demo: server stopped (exit {code})")
        return 0
    finally:
        _stop(proc)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
