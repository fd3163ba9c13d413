"""Spans exported by apps running under ``pyrometer run``, read from a real OTLP receiver
(tests/unit/otlp_receiver.py, decoding with opentelemetry-proto) as ``spans.Span`` values."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

from spans import Span

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))

from otlp_receiver import OtlpReceiver, attrs, otlp_receiver  # noqa: E402, F401

REPO = Path(__file__).resolve().parents[2]


def from_otlp(s: Any) -> Span:
    return Span(
        name=s.name,
        kind={1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}.get(
            int(s.kind), str(s.kind)
        ),
        trace_id=s.trace_id.hex(),
        span_id=s.span_id.hex(),
        parent_id=s.parent_span_id.hex() or None,
        attributes=attrs(s.attributes),
        status={0: "unset", 1: "ok", 2: "error"}.get(int(s.status.code), str(s.status.code)),
        events=[{"name": e.name, "attributes": attrs(e.attributes)} for e in s.events],
    )


def spans(receiver: OtlpReceiver) -> list[tuple[dict[str, Any], Span]]:
    """(resource attributes, span) for everything exported so far."""
    return [(res, from_otlp(s)) for res, s in receiver.spans()]


def wait_spans(
    receiver: OtlpReceiver, ready: Callable[[list[Span]], bool], timeout: float = 30.0
) -> list[Span]:
    """Waits until ``ready(spans)``; fails the test with what arrived otherwise.

    Polls instead of ``receiver.wait_for``: that one calls its predicate holding the receiver's
    lock, and ``receiver.spans()`` takes the same (non-reentrant) lock.
    """
    deadline = time.monotonic() + timeout
    got = [s for _, s in spans(receiver)]
    while not ready(got) and time.monotonic() < deadline:
        time.sleep(0.1)
        got = [s for _, s in spans(receiver)]
    assert ready(got), f"spans exported: {[(s.name, s.kind) for s in got]}"
    return got


def run_env(receiver: OtlpReceiver, service: str, **extra: str) -> dict[str, str]:
    """Environment for ``pyrometer run``: export to ``receiver`` quickly, as ``service``."""
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_SERVICE_NAME": service,
        "PYROMETER_EXPORT_INTERVAL": "200ms",
        "PYROMETER_METRICS_INTERVAL": "1s",
        "PYTHONUNBUFFERED": "1",
        "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
    }
    env.update(extra)
    return env


def pyrometer_run(*argv: str) -> list[str]:
    """The argv of ``pyrometer run -- argv...`` with the test interpreter's console script."""
    return [str(Path(sys.executable).parent / "pyrometer"), "run", "--", *argv]
