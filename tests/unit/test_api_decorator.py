"""span/trace as decorators: sync (C wrapper) and async (Python wrapper) keep values, errors,
metadata, and make the span current inside the function."""

from __future__ import annotations

import asyncio
import inspect

import pytest
import tracer_fixtures
from tracer_fixtures import Captured

import pyrometer
from pyrometer import api

captured = tracer_fixtures.captured  # the fixture, used by name


def test_sync_decorator_returns_value_and_records_span(captured: Captured) -> None:
    @pyrometer.span("work", kind="internal", attributes={"unit": "x"})
    def work(a: int, b: int = 2) -> int:
        """Adds."""
        with api.span("inner"):
            pass
        return a + b

    assert work(1) == 3
    assert work(1, b=5) == 6
    spans = captured.drain()
    works = [s for s in spans if s["name"] == "work"]
    inners = [s for s in spans if s["name"] == "inner"]
    assert len(works) == 2 and len(inners) == 2
    assert works[0]["attributes"] == {"unit": "x", "pyrometer.keep_reason": "sampled"}
    assert {i["parent_span_id"] for i in inners} == {w["span_id"] for w in works}
    assert works[0]["trace_id"] != works[1]["trace_id"]  # each call is its own trace


def test_sync_decorator_preserves_metadata() -> None:
    def original(x: int, *, y: str = "a") -> str:
        """Original doc."""
        return y * x

    wrapped = api.span("named")(original)
    assert wrapped.__name__ == "original"
    assert wrapped.__qualname__ == original.__qualname__
    assert wrapped.__doc__ == "Original doc."
    assert wrapped.__wrapped__ is original
    assert wrapped.__module__ == original.__module__
    assert inspect.signature(wrapped) == inspect.signature(original)


def test_sync_decorator_reraises_and_records_the_exception(captured: Captured) -> None:
    @api.span("fails")
    def fails() -> None:
        raise KeyError("missing")

    with pytest.raises(KeyError, match="missing"):
        fails()
    (span,) = captured.drain()
    assert span["status_code"] == "error"
    assert span["events"][0]["attributes"]["exception.type"] == "KeyError"
    assert span["events"][0]["attributes"]["exception.escaped"] is True
    assert isinstance(api.current_span(), api.NoopSpan)  # context restored on error


def test_bare_decorator_uses_the_qualified_name(captured: Captured) -> None:
    @pyrometer.span
    def bare() -> str:
        return "ok"

    @api.trace
    def traced() -> str:
        return "ok2"

    assert bare() == "ok" and traced() == "ok2"
    names = {s["name"] for s in captured.drain()}
    assert names == {bare.__qualname__, traced.__qualname__}
    assert bare.__qualname__.endswith("bare")


def test_decorated_methods_bind_self(captured: Captured) -> None:
    class Service:
        factor = 3

        @api.span("Service.scale")
        def scale(self, x: int) -> int:
            return x * self.factor

    assert Service().scale(2) == 6
    assert Service.scale(Service(), 3) == 9
    bound = Service().scale  # an attribute still binds, as a function's does
    assert bound.__self__.factor == 3 and bound(4) == 12
    assert [s["name"] for s in captured.drain()] == ["Service.scale"] * 3


def test_decorated_static_and_class_methods(captured: Captured) -> None:
    class Service:
        @staticmethod
        @api.span("static")
        def static(x: int) -> int:
            return x + 1

        @classmethod
        @api.span("cls")
        def cls(cls, x: int) -> int:
            return x + 2

    assert Service.static(1) == 2 and Service().static(1) == 2
    assert Service.cls(1) == 3 and Service().cls(1) == 3
    assert [s["name"] for s in captured.drain()] == ["static", "static", "cls", "cls"]


def test_async_decorator_returns_value_and_parents_children(captured: Captured) -> None:
    @api.span("fetch", kind="client")
    async def fetch(n: int) -> int:
        """Fetches."""
        await asyncio.sleep(0)
        with api.span("parse"):
            await asyncio.sleep(0)
        return n * 2

    assert inspect.iscoroutinefunction(fetch)
    assert fetch.__name__ == "fetch" and fetch.__doc__ == "Fetches."
    assert asyncio.run(fetch(21)) == 42
    spans = captured.by_name()
    assert spans["fetch"]["kind"] == "client"
    assert spans["parse"]["parent_span_id"] == spans["fetch"]["span_id"]


def test_async_decorator_reraises_and_records(captured: Captured) -> None:
    @api.span
    async def boom() -> None:
        await asyncio.sleep(0)
        raise RuntimeError("async boom")

    with pytest.raises(RuntimeError, match="async boom"):
        asyncio.run(boom())
    (span,) = captured.drain()
    assert span["name"].endswith("boom")
    assert span["status_code"] == "error"
    assert span["events"][0]["attributes"]["exception.message"] == "async boom"


def test_async_decorator_keeps_attributes(captured: Captured) -> None:
    @api.span("job", kind="consumer", attributes={"queue": "q1"})
    async def job() -> None:
        await asyncio.sleep(0)

    asyncio.run(job())
    (span,) = captured.drain()
    assert span["kind"] == "consumer"
    assert span["attributes"]["queue"] == "q1"


def test_a_span_object_used_as_decorator_needs_one_callable() -> None:
    with pytest.raises(TypeError):
        api.span("x")(1)
