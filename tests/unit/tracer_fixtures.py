"""Shared fixtures for the tracer's unit tests: the test-only span capture, with a clean config.

``captured`` turns on ``_native._debug_capture`` (kept traces are copied in memory instead of
exported), resets the sampler to the default for the test, and yields a ``Captured`` helper.
"""

from __future__ import annotations

from typing import Any, Iterator

import pytest


class Captured:
    """The spans the tracer kept since the last drain, as the dicts ``_debug_drain`` returns."""

    def __init__(self, native: Any) -> None:
        self.native = native

    def drain(self) -> list[dict[str, Any]]:
        return self.native._debug_drain()

    def by_name(self, spans: list[dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
        spans = self.drain() if spans is None else spans
        out: dict[str, dict[str, Any]] = {}
        for s in spans:
            assert s["name"] not in out, f"duplicate span name {s['name']!r}"
            out[s["name"]] = s
        return out

    def configure(self, sampler: str = "", arg: str = "", tail_keep: bool = True) -> Any:
        return self.native.configure(sampler, arg, tail_keep)


@pytest.fixture
def captured() -> Iterator[Captured]:
    from pyrometer import _native

    _native.configure("", "", True)
    _native._debug_capture(True)
    _native._debug_drain()
    try:
        yield Captured(_native)
    finally:
        _native._debug_capture(False)
        _native.configure("", "", True)
