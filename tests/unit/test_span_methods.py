"""Span.__enter__ / __exit__ are fast methods (native/agent/py_fast_method.cc): bound without
an allocation, recycled through a free list. They must behave like any other method."""

from __future__ import annotations

import contextvars
import gc
import sys
import threading

import pytest
import tracer_fixtures
from tracer_fixtures import Captured

import pyrometer
from pyrometer import _native

captured = tracer_fixtures.captured  # the fixture, used by name


def test_descriptor_on_the_class_looks_like_a_method() -> None:
    enter = _native.Span.__dict__["__enter__"]
    assert _native.Span.__enter__ is enter  # looked up on the class: the descriptor itself
    assert enter.__name__ == "__enter__"
    assert enter.__qualname__ == "Span.__enter__"
    assert enter.__objclass__ is _native.Span
    assert "current" in enter.__doc__
    assert repr(enter) == "<method '__enter__' of 'pyrometer._native.Span' objects>"


def test_bound_method_knows_its_span_and_compares_like_one() -> None:
    span = pyrometer.span("x")
    bound = span.__exit__
    assert bound.__self__ is span
    assert bound.__name__ == "__exit__" and bound.__qualname__ == "Span.__exit__"
    assert bound == span.__exit__ and hash(bound) == hash(span.__exit__)
    assert bound != span.__enter__ and bound != pyrometer.span("y").__exit__
    assert repr(bound).startswith("<bound method Span.__exit__ of <pyrometer.Span 'x'")


def test_calling_through_the_class_and_by_hand(captured: Captured) -> None:
    span = pyrometer.span("by-hand")
    assert _native.Span.__enter__(span) is span
    assert pyrometer.current_span() is span
    assert _native.Span.__exit__(span, None, None, None) is False
    assert pyrometer.current_span() is not span
    assert [s["name"] for s in captured.drain()] == ["by-hand"]


def test_bad_calls_raise_type_errors_and_leave_the_span_alone(captured: Captured) -> None:
    span = pyrometer.span("x")
    with pytest.raises(TypeError, match=r"__exit__\(\) takes 3 positional arguments \(1 given\)"):
        span.__exit__(None)
    with pytest.raises(TypeError, match="takes no keyword arguments"):
        span.__enter__(now=True)
    with pytest.raises(TypeError, match="doesn't apply to a 'int' object"):
        _native.Span.__enter__(1)
    with pytest.raises(TypeError, match="needs an argument"):
        _native.Span.__enter__()
    with pytest.raises(TypeError, match="doesn't apply"):
        _native.Span.__dict__["__enter__"].__get__(object())
    assert not span.is_recording  # nothing above started it
    assert captured.drain() == []


def test_a_kept_bound_method_keeps_its_span_alive(captured: Captured) -> None:
    span = pyrometer.span("kept")
    exit_ = span.__exit__
    span.__enter__()
    del span
    gc.collect()
    assert exit_.__self__.is_recording  # the span is still there to end
    exit_(None, None, None)
    del exit_
    gc.collect()
    assert not [o for o in gc.get_objects() if type(o) is _native.Span and o.name == "kept"]
    assert [s["name"] for s in captured.drain()] == ["kept"]


def test_a_cycle_through_a_bound_method_is_collected() -> None:
    # An entered span's token holds its Context; a ContextVar of that Context holding the span's
    # bound __exit__ (as an ExitStack kept in a ContextVar would) closes a cycle. Abandoned, it
    # must still be collected, as it would be with a builtin bound method.
    holder: contextvars.ContextVar[object] = contextvars.ContextVar("holder")

    def abandon() -> None:
        span = pyrometer.span("cyclic")
        span.__enter__()
        holder.set(span.__exit__)

    contextvars.copy_context().run(abandon)
    gc.collect()
    assert not [o for o in gc.get_objects() if type(o) is _native.Span and o.name == "cyclic"]


def test_deep_nesting_outgrows_the_free_list(captured: Captured) -> None:
    def nest(depth: int) -> None:
        if depth:
            with pyrometer.span(f"d{depth}"):
                nest(depth - 1)

    before = sys.getrefcount(_native.Span)
    for _ in range(3):
        nest(200)  # 200 bound __exit__ methods alive at once: more than the list holds
    spans = captured.drain()
    assert len(spans) == 600
    assert len({s["trace_id"] for s in spans}) == 3
    after = sys.getrefcount(_native.Span)  # (outside the assert: pytest's rewrite holds operands)
    assert after == before  # no reference to the type leaked per bind


def test_exceptions_pass_through_and_are_recorded(captured: Captured) -> None:
    with pytest.raises(KeyError):
        with pyrometer.span("fails"):
            raise KeyError("k")
    (span,) = captured.drain()
    assert span["status_code"] == "error"
    assert span["events"][0]["name"] == "exception"


def test_threads_bind_and_release_concurrently(captured: Captured) -> None:
    def work() -> None:
        for _ in range(2000):
            with pyrometer.span("t"):
                with pyrometer.span("u"):
                    pass

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(captured.drain()) == 4 * 2000 * 2
