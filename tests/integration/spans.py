"""Reading spans back in integration tests: the tracer's test-only capture, normalised.

Every span becomes a ``Span`` with plain fields so assertions read the same whatever the
capture's dict layout; ``tree()`` checks parent links by name.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Iterator

import pytest


def _hex(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).hex()
    value = str(value)
    return None if not value or set(value) == {"0"} else value


def _kind(value: Any) -> str:
    """'server' from 2, 'SpanKind.SERVER', 'SPAN_KIND_SERVER', 'kServer' or 'server'."""
    names = {0: "unspecified", 1: "internal", 2: "server", 3: "client", 4: "producer",
             5: "consumer"}  # fmt: skip
    if isinstance(value, int):
        return names.get(value, str(value))
    text = str(value).lower().rsplit(".", 1)[-1].replace("span_kind_", "")
    return text[1:] if text.startswith("k") and text[1:] in names.values() else text


def _status(value: Any) -> str:
    if isinstance(value, int):
        return {0: "unset", 1: "ok", 2: "error"}.get(value, str(value))
    return str(value).lower().rsplit(".", 1)[-1].replace("status_code_", "")


@dataclass
class Span:
    name: str
    kind: str
    trace_id: str
    span_id: str
    parent_id: str | None
    attributes: dict[str, Any]
    status: str
    events: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_capture(cls, d: dict[str, Any]) -> Span:
        attrs = d.get("attributes") or {}
        if isinstance(attrs, list):
            attrs = {a["key"]: a["value"] for a in attrs}
        events = []
        for e in d.get("events") or []:
            eattrs = e.get("attributes") or {}
            if isinstance(eattrs, list):
                eattrs = {a["key"]: a["value"] for a in eattrs}
            events.append({"name": e.get("name"), "attributes": eattrs})
        status = d.get("status_code", d.get("status", "unset"))
        if isinstance(status, dict):
            status = status.get("code", "unset")
        return cls(
            name=d["name"],
            kind=_kind(d.get("kind", "internal")),
            trace_id=_hex(d.get("trace_id")) or "",
            span_id=_hex(d.get("span_id")) or "",
            parent_id=_hex(d.get("parent_span_id")),
            attributes=dict(attrs),
            status=_status(status),
            events=events,
        )

    def exception(self) -> dict[str, Any]:
        """The attributes of the (last) exception event; fails the test when there is none."""
        found = [e for e in self.events if e["name"] == "exception"]
        assert found, f"span {self.name!r} has no exception event: {self.events}"
        return found[-1]["attributes"]

    def frames(self) -> list[dict[str, Any]]:
        return json.loads(self.exception()["exception.frames"])


class Capture:
    """The spans the tracer kept since the last ``drain()``."""

    def __init__(self, native: Any) -> None:
        self._native = native

    def drain(self) -> list[Span]:
        return [Span.from_capture(d) for d in self._native._debug_drain()]

    def wait(self, count: int, timeout: float = 15.0) -> list[Span]:
        """Drains until ``count`` spans arrived: servers end a span after the client got the
        response (on close()), so a test must wait for it. Fails if more or fewer arrive."""
        spans: list[Span] = []
        deadline = time.monotonic() + timeout
        while len(spans) < count and time.monotonic() < deadline:
            spans.extend(self.drain())
            if len(spans) < count:
                time.sleep(0.01)
        time.sleep(0.05)
        spans.extend(self.drain())
        assert len(spans) == count, f"expected {count} spans, got {[s.name for s in spans]}"
        return spans

    def one(self, name: str, spans: list[Span]) -> Span:
        found = [s for s in spans if s.name == name]
        assert len(found) == 1, f"expected one span {name!r}, got {[s.name for s in spans]}"
        return found[0]


def tree(spans: list[Span]) -> list[tuple[str, str | None]]:
    """Sorted (name, parent name) pairs; a parent outside ``spans`` shows as "<remote>"."""
    by_id = {s.span_id: s for s in spans}
    out = []
    for s in spans:
        if s.parent_id is None:
            parent = None
        else:
            parent = by_id[s.parent_id].name if s.parent_id in by_id else "<remote>"
        out.append((s.name, parent))
    return sorted(out, key=lambda p: (p[0], p[1] or ""))


@pytest.fixture
def capture() -> Iterator[Capture]:
    """Turns on the tracer's test-only capture for the test and drops what is left after it."""
    from pyrometer import _native

    _native._debug_capture(True)
    try:
        _native._debug_drain()
        yield Capture(_native)
    finally:
        _native._debug_drain()
        _native._debug_capture(False)


@pytest.fixture
def clean_integrations() -> Iterator[None]:
    """Unpatches every integration before and after the test, so spans from a library another
    test left patched (or ``pyrometer.auto`` installed) do not show up in this one; and checks
    that the test left no span current."""
    import importlib
    import sys

    from pyrometer import integrations

    def unpatch_all() -> None:
        for name in sorted(set(integrations.REGISTRY.values())):
            module = sys.modules.get(name) or importlib.import_module(name)
            module.unpatch()

    from pyrometer import api

    unpatch_all()
    yield
    unpatch_all()
    # no span may stay current in the test's context once the work it traced is over
    assert isinstance(api.current_span(), api.NoopSpan), f"leaked: {api.current_span()!r}"
