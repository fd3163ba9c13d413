"""asyncio integration: a blocked event loop shows up as loop lag, and each loop's task count as
a gauge, exported over OTLP."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from exported import OtlpReceiver, attrs, pyrometer_run, run_env

from pyrometer.integrations import _wrap
from pyrometer.integrations import asyncio as asyncio_integration

APPS = Path(__file__).parent / "apps"
pytestmark = pytest.mark.usefixtures("clean_integrations")


def test_blocked_loop_is_measured(otlp_receiver: OtlpReceiver) -> None:
    env = run_env(otlp_receiver, "script")
    result = subprocess.run(pyrometer_run(sys.executable, str(APPS / "blocking_loop.py")),
                            env={**os.environ, **env}, capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "done"
    deadline = time.monotonic() + 20
    points = []
    while time.monotonic() < deadline and not points:
        points = otlp_receiver.metric_points("pyrometer.asyncio.loop_lag")
        time.sleep(0.1)
    assert points, [m.name for _, m in otlp_receiver.metrics()]
    assert sum(p.count for _, _, p in points) >= 3
    # heartbeats every 0.25 s: one falls inside each 0.4 s block and runs >= 0.15 s late
    assert max(p.max for _, _, p in points) >= 0.1


def test_task_count_per_loop(otlp_receiver: OtlpReceiver) -> None:
    env = run_env(otlp_receiver, "script")
    result = subprocess.run(pyrometer_run(sys.executable, str(APPS / "tasks_loop.py")),
                            env={**os.environ, **env}, capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "done"
    otlp_receiver.wait_for(
        lambda: len(otlp_receiver.metric_points("pyrometer.asyncio.tasks")) >= 2, timeout=20
    )
    counts: dict[str, set[int]] = {}
    for _, metric, p in otlp_receiver.metric_points("pyrometer.asyncio.tasks"):
        assert metric.WhichOneof("data") == "gauge" and metric.unit == "{task}"
        a = attrs(p.attributes)
        assert isinstance(a["thread.id"], int)
        counts.setdefault(a["thread.name"], set()).add(p.as_int)
    # Each loop: its main task plus the waiters it holds (the last reading may be taken while
    # the waiters finish, so it can be lower, never higher).
    assert set(counts) == {"MainThread", "side-loop"}
    assert max(counts["MainThread"]) == 6
    assert max(counts["side-loop"]) == 3


def test_patch_unpatch() -> None:
    import asyncio.base_events as base_events

    asyncio_integration.patch()
    asyncio_integration.patch()
    assert _wrap.is_wrapped(base_events.BaseEventLoop, "run_forever")
    assert asyncio.run(_answer()) == 42
    asyncio_integration.unpatch()
    assert not _wrap.is_wrapped(base_events.BaseEventLoop, "run_forever")


async def _answer() -> int:
    return 42
