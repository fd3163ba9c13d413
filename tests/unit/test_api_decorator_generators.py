"""span as a decorator on generator and async generator functions: the span covers the
iteration, is current only while the body runs, and ends at exhaustion, close, GC or an error."""

from __future__ import annotations

import asyncio
import gc
import inspect
from typing import Any, AsyncIterator, Iterator

import pytest
import tracer_fixtures
from tracer_fixtures import Captured

from pyrometer import _native, api

captured = tracer_fixtures.captured  # the fixture, used by name


def _current_id() -> str | None:
    cur = api.current_span()
    return None if cur is None or not hasattr(cur, "span_id") else cur.span_id


def test_generator_span_covers_iteration_and_parents_children(captured: Captured) -> None:
    seen: list[str | None] = []

    @api.span("gen", attributes={"unit": "g"})
    def gen(n: int) -> Iterator[int]:
        for i in range(n):
            seen.append(_current_id())
            with api.span("child"):
                pass
            yield i
        return

    assert inspect.isgeneratorfunction(gen)
    it = gen(3)
    assert captured.drain() == []  # nothing starts before the first next()
    assert list(it) == [0, 1, 2]
    spans = captured.drain()
    (g,) = [s for s in spans if s["name"] == "gen"]
    children = [s for s in spans if s["name"] == "child"]
    assert len(children) == 3
    assert {c["parent_span_id"] for c in children} == {g["span_id"]}
    assert set(seen) == {g["span_id"]}
    assert g["start_unix_nano"] <= min(c["start_unix_nano"] for c in children)
    assert g["end_unix_nano"] >= max(c["end_unix_nano"] for c in children)
    assert g["status_code"] == "unset"
    assert g["attributes"]["unit"] == "g"


def test_generator_restores_caller_context_between_yields(captured: Captured) -> None:
    @api.span("gen")
    def gen() -> Iterator[str | None]:
        yield _current_id()
        yield _current_id()

    with api.span("caller") as caller:
        it = gen()
        inside = next(it)
        assert _current_id() == caller.span_id  # not polluted by the generator's span
        with api.span("other") as other:
            assert next(it) == inside  # the body sees its own span on each resume
            assert _current_id() == other.span_id
        assert _current_id() == caller.span_id
        assert list(it) == []
    spans = captured.by_name()
    assert spans["gen"]["span_id"] == inside
    assert spans["gen"]["parent_span_id"] == spans["caller"]["span_id"]


def test_generator_send_throw_and_return_value_pass_through(captured: Captured) -> None:
    @api.span("echo")
    def echo() -> Iterator[Any]:
        got: list[Any] = []
        while True:
            try:
                value = yield len(got)
            except KeyError as exc:
                got.append(("thrown", exc.args[0]))
                continue
            if value is None:
                return got
            got.append(value)

    def outer() -> Iterator[Any]:
        result = yield from echo()
        yield ("result", result)

    it = outer()
    assert next(it) == 0
    assert it.send("a") == 1
    assert it.throw(KeyError("k")) == 2
    assert it.send("b") == 3
    assert next(it) == ("result", ["a", ("thrown", "k"), "b"])
    spans = captured.by_name()
    assert spans["echo"]["status_code"] == "unset"


def test_generator_early_break_and_close_end_the_span_without_error(captured: Captured) -> None:
    cleaned: list[str | None] = []

    @api.span("gen")
    def gen() -> Iterator[int]:
        try:
            yield 1
            yield 2
        finally:
            cleaned.append(_current_id())

    for value in gen():
        assert value == 1
        break
    gc.collect()
    it = gen()
    next(it)
    it.close()
    spans = [s for s in captured.drain() if s["name"] == "gen"]
    assert len(spans) == 2
    assert [s["status_code"] for s in spans] == ["unset", "unset"]
    assert all(s["events"] == [] for s in spans)
    assert sorted(cleaned) == sorted(s["span_id"] for s in spans)  # finally ran inside the span


def test_generator_ended_by_garbage_collection(captured: Captured) -> None:
    @api.span("gen")
    def gen() -> Iterator[int]:
        yield 1
        yield 2

    it = gen()
    next(it)
    del it
    gc.collect()
    (span,) = captured.drain()
    assert span["name"] == "gen" and span["status_code"] == "unset"


def test_generator_exception_is_recorded(captured: Captured) -> None:
    @api.span("gen")
    def gen() -> Iterator[int]:
        yield 1
        raise ValueError("boom")

    it = gen()
    assert next(it) == 1
    with pytest.raises(ValueError, match="boom"):
        next(it)
    (span,) = captured.drain()
    assert span["status_code"] == "error"
    (event,) = span["events"]
    assert event["attributes"]["exception.type"] == "ValueError"
    assert event["attributes"]["exception.message"] == "boom"


def test_generator_never_started_makes_no_span(captured: Captured) -> None:
    @api.span("gen")
    def gen() -> Iterator[int]:
        yield 1

    it = gen()
    it.close()
    del it
    gc.collect()
    assert captured.drain() == []


def test_async_generator_span_covers_iteration(captured: Captured) -> None:
    seen: list[str | None] = []

    @api.span("agen")
    async def agen(n: int) -> AsyncIterator[int]:
        for i in range(n):
            await asyncio.sleep(0)
            seen.append(_current_id())
            with api.span("child"):
                pass
            yield i

    assert inspect.isasyncgenfunction(agen)

    async def main() -> tuple[list[int], list[str | None]]:
        out: list[int] = []
        between: list[str | None] = []
        with api.span("caller"):
            async for v in agen(3):
                out.append(v)
                between.append(_current_id())
        return out, between

    out, between = asyncio.run(main())
    assert out == [0, 1, 2]
    spans = captured.drain()
    (g,) = [s for s in spans if s["name"] == "agen"]
    (caller,) = [s for s in spans if s["name"] == "caller"]
    children = [s for s in spans if s["name"] == "child"]
    assert {c["parent_span_id"] for c in children} == {g["span_id"]}
    assert set(seen) == {g["span_id"]}
    assert set(between) == {caller["span_id"]}  # the caller's context between yields
    assert g["parent_span_id"] == caller["span_id"]
    assert g["status_code"] == "unset"


def test_async_generator_asend_athrow_aclose_and_error(captured: Captured) -> None:
    @api.span("echo")
    async def echo() -> AsyncIterator[Any]:
        got: list[Any] = []
        try:
            while True:
                try:
                    value = yield len(got)
                except KeyError:
                    got.append("thrown")
                    continue
                if value == "fail":
                    raise RuntimeError("bad")
                got.append(value)
        finally:
            got.append("closed")

    async def main() -> list[Any]:
        results: list[Any] = []
        it = echo()
        results.append(await it.asend(None))
        results.append(await it.asend("a"))
        results.append(await it.athrow(KeyError("k")))
        await it.aclose()
        it2 = echo()
        await it2.asend(None)
        with pytest.raises(RuntimeError, match="bad"):
            await it2.asend("fail")
        return results

    assert asyncio.run(main()) == [0, 1, 2]
    first, second = [s for s in captured.drain() if s["name"] == "echo"]
    assert first["status_code"] == "unset" and first["events"] == []
    assert second["status_code"] == "error"
    assert second["events"][0]["attributes"]["exception.type"] == "RuntimeError"


def test_generator_decorator_when_disabled_still_iterates(captured: Captured) -> None:
    @api.span("gen")
    def gen() -> Iterator[int]:
        got = yield 1
        yield got

    noop = api._NOOP
    _native._set_noop(noop)
    try:
        it = gen()
        assert next(it) == 1
        assert it.send(7) == 7
    finally:
        _native._set_noop(None)
    assert captured.drain() == []
