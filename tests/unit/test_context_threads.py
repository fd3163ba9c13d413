"""Context across threads: copy_context carries the span, plain threads start new traces, and
each thread's active local root is published in the native thread-roots table."""

from __future__ import annotations

import contextvars
import threading
from concurrent.futures import ThreadPoolExecutor

import tracer_fixtures
from tracer_fixtures import Captured

from pyrometer import api

captured = tracer_fixtures.captured  # the fixture, used by name


def test_thread_pool_with_copy_context_keeps_the_parent(captured: Captured) -> None:
    def job(i: int) -> str:
        with api.span(f"job-{i}") as s:
            with api.span(f"sub-{i}"):
                pass
            return s.trace_id

    with api.span("batch") as batch:
        with ThreadPoolExecutor(max_workers=8) as pool:
            futures = [pool.submit(contextvars.copy_context().run, job, i) for i in range(32)]
            trace_ids = {f.result() for f in futures}
    assert trace_ids == {batch.trace_id}
    spans = captured.by_name()
    for i in range(32):
        assert spans[f"job-{i}"]["parent_span_id"] == batch.span_id
        assert spans[f"sub-{i}"]["parent_span_id"] == spans[f"job-{i}"]["span_id"]


def test_plain_threads_do_not_inherit_the_span(captured: Captured) -> None:
    seen: list[object] = []

    def run() -> None:
        seen.append(api.current_span())
        with api.span("thread-root"):
            pass

    with api.span("main-root"):
        t = threading.Thread(target=run)
        t.start()
        t.join()
    assert isinstance(seen[0], api.NoopSpan)
    spans = captured.by_name()
    assert spans["thread-root"]["parent_span_id"] is None
    assert spans["thread-root"]["trace_id"] != spans["main-root"]["trace_id"]


def test_thread_roots_table_publishes_each_threads_local_root() -> None:
    from pyrometer import _native

    me = threading.get_native_id()
    with api.span("root") as root:
        with api.span("child"):
            assert _native._thread_root(me) == (root.trace_id, root.span_id, "")
        assert _native._thread_root(me) == (root.trace_id, root.span_id, "")
    assert _native._thread_root(me) is None

    inside = threading.Event()
    release = threading.Event()
    other: dict[str, object] = {}

    def worker() -> None:
        other["tid"] = threading.get_native_id()
        with api.span("worker-root") as w:
            other["ids"] = (w.trace_id, w.span_id, "")
            inside.set()
            release.wait(10)

    t = threading.Thread(target=worker)
    t.start()
    assert inside.wait(10)
    try:
        assert _native._thread_root(other["tid"]) == other["ids"]  # read from another thread
    finally:
        release.set()
        t.join()


def test_concurrent_threads_each_build_their_own_trees(captured: Captured) -> None:
    barrier = threading.Barrier(8)

    def run(i: int) -> None:
        barrier.wait()
        for j in range(50):
            with api.span(f"t{i}-r{j}"):
                with api.span(f"t{i}-c{j}"):
                    pass

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    spans = captured.by_name()
    assert len(spans) == 8 * 50 * 2
    for i in range(8):
        for j in range(50):
            assert spans[f"t{i}-c{j}"]["parent_span_id"] == spans[f"t{i}-r{j}"]["span_id"]


def test_thread_root_returns_to_the_enclosing_local_root() -> None:
    from pyrometer import _native

    me = threading.get_native_id()
    remote = {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
    with api.span("outer") as outer:
        with api.start_server_span("inner-root", remote) as inner:
            assert inner.is_local_root
            assert _native._thread_root(me) == (inner.trace_id, inner.span_id, "")
        assert _native._thread_root(me) == (outer.trace_id, outer.span_id, "")
        token = api.attach(api.start_server_span("attached", remote))
        api.detach(token)
        assert _native._thread_root(me) == (outer.trace_id, outer.span_id, "")
    assert _native._thread_root(me) is None


def test_thread_root_after_roots_started_before_they_are_entered() -> None:
    from pyrometer import _native

    me = threading.get_native_id()
    early = api.start_span("early")  # a local root: nothing current when it started
    with api.span("outer") as outer:
        with early:  # entered under outer, so leaving it must bring outer back
            assert _native._thread_root(me) == (early.trace_id, early.span_id, "")
        assert _native._thread_root(me) == (outer.trace_id, outer.span_id, "")

    @api.span("decorated")
    def decorated() -> tuple[str, str, str] | None:
        return _native._thread_root(me)

    assert decorated() is not None
    assert _native._thread_root(me) is None  # a decorated local root leaves none behind
    with api.span("outer2") as outer2:
        assert decorated() == (outer2.trace_id, outer2.span_id, "")  # a child here
        assert _native._thread_root(me) == (outer2.trace_id, outer2.span_id, "")
    assert _native._thread_root(me) is None


def test_thread_root_carries_the_route_of_the_local_root() -> None:
    from pyrometer import _native

    me = threading.get_native_id()
    with api.span("GET", kind="server") as root:
        assert _native._thread_root(me) == (root.trace_id, root.span_id, "")
        with api.span("view"):
            root.set_attribute("http.route", "/users/{id}")  # known only after routing
            assert _native._thread_root(me)[2] == "/users/{id}"
    with api.span("POST", kind="server", attributes={"http.route": "/orders"}):
        with api.span("child"):
            assert _native._thread_root(me)[2] == "/orders"
    s = api.start_server_span("GET", {}, attributes={"http.route": "/attached"})
    token = api.attach(s)
    assert _native._thread_root(me)[2] == "/attached"
    api.detach(token)
    s.end()
