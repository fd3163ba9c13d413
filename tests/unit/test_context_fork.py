"""Fork safety of the tracer: a forked child never exports what its parent started, gets
fresh ids (re-seeded generator), and starts with an empty capture."""

from __future__ import annotations

import json
import os

import pytest
import tracer_fixtures
from tracer_fixtures import Captured

from pyrometer import api

captured = tracer_fixtures.captured  # the fixture, used by name

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def _in_child(fn) -> dict:  # type: ignore[no-untyped-def, type-arg]
    """Runs fn() in a forked child and returns its JSON result (the child exits via _exit)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.close(r)
            os.write(w, json.dumps(fn()).encode())
        except BaseException as exc:  # noqa: BLE001 - report anything to the parent
            os.write(w, json.dumps({"error": repr(exc)}).encode())
            code = 1
        finally:
            os._exit(code)
    os.close(w)
    chunks = []
    while chunk := os.read(r, 65536):
        chunks.append(chunk)
    os.close(r)
    _, status = os.waitpid(pid, 0)
    result = json.loads(b"".join(chunks))
    assert os.WEXITSTATUS(status) == 0, result
    return result


def test_span_open_across_fork_is_exported_once_by_the_parent(captured: Captured) -> None:
    from pyrometer import _native

    with api.span("pre-fork") as s:

        def child() -> dict:  # type: ignore[type-arg]
            s.__exit__(None, None, None)  # the child ends its copy of the span...
            with api.span("child-own"):
                pass
            return {
                "drained": [d["name"] for d in _native._debug_drain()],
                "dropped": _native._tracer_stats()["spans_dropped_after_fork"],
                "generation": _native._tracer_stats()["fork_generation"],
            }

        result = _in_child(child)
    # ...but only its own new trace is kept there; the parent exports "pre-fork" once.
    assert result["drained"] == ["child-own"]
    assert result["dropped"] >= 1
    assert result["generation"] >= 1
    assert [d["name"] for d in captured.drain()] == ["pre-fork"]


def test_child_gets_fresh_ids_and_an_empty_capture(captured: Captured) -> None:
    with api.span("kept-in-parent"):
        pass  # captured in the parent, not yet drained when forking

    def child() -> dict:  # type: ignore[type-arg]
        from pyrometer import _native

        pending = [d["name"] for d in _native._debug_drain()]
        with api.span("c") as s:
            return {"pending": pending, "trace_id": s.trace_id, "span_id": s.span_id}

    result = _in_child(child)
    with api.span("p") as mine:
        pass
    assert result["pending"] == []
    assert result["trace_id"] != mine.trace_id  # without a re-seed these would be equal
    assert result["span_id"] != mine.span_id
    assert [d["name"] for d in captured.drain()] == ["kept-in-parent", "p"]
