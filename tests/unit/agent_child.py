"""Runs agent code in a fresh interpreter: the native pipeline is one per process.

``run_child(code, receiver)`` executes ``PRELUDE + code`` with ``python -c``; the code calls
``start(...)`` to create the pipeline aimed at the receiver and ``emit(obj)`` to hand a JSON result
back. Used by the exporter, runtime, fork and e2e tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

PRELUDE = textwrap.dedent(
    """
    import json, os, sys, time
    from pyrometer import _native as n
    ENDPOINT = os.environ["PYROMETER_TEST_ENDPOINT"]

    def start(**kw):
        args = dict(
            service_name="test-svc",
            resource_attributes={"deployment.environment.name": "test"},
            traces_url=ENDPOINT + "/v1/traces",
            metrics_url=ENDPOINT + "/v1/metrics",
            logs_url=ENDPOINT + "/v1/logs",
            headers={},
            export_interval_s=60.0,
            metrics_interval_s=60.0,
            flush_timeout_s=2.0,
            max_queue_spans=2048,
        )
        args.update(kw)
        return n.start_pipeline(**args)

    def rss_bytes():
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return -1

    def emit(obj):
        print("RESULT " + json.dumps(obj), flush=True)
    """
)


def child_env(endpoint: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYROMETER_TEST_ENDPOINT"] = endpoint
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "tests" / "unit"), env.get("PYTHONPATH", "")]
    ).rstrip(os.pathsep)
    for key in list(env):
        if key.startswith(("PYROMETER_", "OTEL_")) and key != "PYROMETER_TEST_ENDPOINT":
            del env[key]
    env.update(extra or {})
    return env


def run_child(code: str, endpoint: str, timeout: float = 120.0, **env: str) -> dict[str, Any]:
    """Runs the code; returns the last emit()ted object. Fails showing the child's output."""
    proc = subprocess.run(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(code)],
        env=child_env(endpoint, env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    results = [ln[7:] for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert proc.returncode == 0 and results, (
        f"child failed (rc={proc.returncode})\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    )
    result: dict[str, Any] = json.loads(results[-1])
    result["_stderr"] = proc.stderr
    return result
