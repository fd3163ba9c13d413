"""Context under asyncio: concurrent tasks never cross, create_task keeps its parent even
after the parent ended, executors see the span when the context is carried."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging

import pytest
import tracer_fixtures
from tracer_fixtures import Captured

from pyrometer import api

captured = tracer_fixtures.captured  # the fixture, used by name


def test_100_concurrent_tasks_with_nested_spans_never_cross(captured: Captured) -> None:
    async def request(i: int) -> None:
        with api.span(f"req-{i}", kind="server") as root:
            for j in range(3):
                with api.span(f"step-{i}-{j}") as step:
                    await asyncio.sleep(0.001 * ((i + j) % 3))
                    assert api.current_span() is step
                    with api.span(f"leaf-{i}-{j}"):
                        await asyncio.sleep(0)
                assert api.current_span() is root

    async def main() -> None:
        await asyncio.gather(*(request(i) for i in range(100)))

    asyncio.run(main())
    spans = captured.by_name()
    assert len(spans) == 100 * 7
    for i in range(100):
        root = spans[f"req-{i}"]
        assert root["parent_span_id"] is None
        for j in range(3):
            step = spans[f"step-{i}-{j}"]
            leaf = spans[f"leaf-{i}-{j}"]
            assert step["parent_span_id"] == root["span_id"]
            assert leaf["parent_span_id"] == step["span_id"]
            assert step["trace_id"] == leaf["trace_id"] == root["trace_id"]
    assert len({spans[f"req-{i}"]["trace_id"] for i in range(100)}) == 100


def test_task_keeps_its_parent_when_the_parent_ends_first(captured: Captured) -> None:
    async def background(started: asyncio.Event) -> None:
        started.set()
        await asyncio.sleep(0.01)
        with api.span("late-child"):
            await asyncio.sleep(0)

    async def main() -> None:
        started = asyncio.Event()
        with api.span("handler") as handler:
            task = asyncio.create_task(background(started))
        assert not handler.is_recording  # the parent ended before the task's span began
        await task
        return handler

    handler = asyncio.run(main())
    spans = captured.by_name()
    assert spans["late-child"]["parent_span_id"] == handler.span_id
    assert spans["late-child"]["trace_id"] == handler.trace_id
    assert captured.native._tracer_stats()["late_spans_submitted"] >= 1


def test_late_span_of_a_dropped_trace_is_not_exported(captured: Captured) -> None:
    captured.configure("always_off")

    async def main() -> None:
        with api.span("handler"):
            task = asyncio.create_task(asyncio.sleep(0))

            async def late() -> None:
                with api.span("late"):
                    await asyncio.sleep(0)

            late_task = asyncio.create_task(late())
        await task
        await late_task

    asyncio.run(main())
    assert captured.drain() == []


def test_run_in_executor_with_copied_context_and_to_thread(captured: Captured) -> None:
    def work(name: str) -> str:
        with api.span(name) as s:
            return s.span_id

    async def main() -> tuple[str, str, str]:
        loop = asyncio.get_running_loop()
        with api.span("root") as root:
            ctx = contextvars.copy_context()
            a = await loop.run_in_executor(None, functools.partial(ctx.run, work, "executor"))
            b = await asyncio.to_thread(work, "to_thread")
        return root.span_id, a, b

    root_id, _, _ = asyncio.run(main())
    spans = captured.by_name()
    assert spans["executor"]["parent_span_id"] == root_id
    assert spans["to_thread"]["parent_span_id"] == root_id


def test_span_exited_in_another_task_restores_silently(
    captured: Captured, caplog: pytest.LogCaptureFixture
) -> None:
    """A span entered in one task and exited in another: the token belongs to another Context.
    Peers log "Failed to detach context"; we restore the previous value and count it."""

    async def main() -> None:
        holder: dict[str, object] = {}

        async def opener() -> None:
            s = api.span("cross")
            s.__enter__()
            holder["span"] = s

        async def closer() -> None:
            holder["span"].__exit__(None, None, None)  # type: ignore[attr-defined]
            assert isinstance(api.current_span(), api.NoopSpan)

        await asyncio.create_task(opener())
        await asyncio.create_task(closer())

    before = captured.native._tracer_stats()["context_reset_fallbacks"]
    with caplog.at_level(logging.DEBUG):
        asyncio.run(main())
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert captured.native._tracer_stats()["context_reset_fallbacks"] == before + 1
    assert [s["name"] for s in captured.drain()] == ["cross"]


def test_detach_with_a_foreign_token_never_raises() -> None:
    s = api.start_span("x")
    token = contextvars.copy_context().run(api.attach, s)  # token of another Context
    api.detach(token)
    api.detach(None)
    s.end()
