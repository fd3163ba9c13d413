"""Gauges and resource updates through the real pipeline to a real OTLP receiver: last value per
series as OTLP Gauge points, the series limit (drops counted, reported once), typed resource
attributes on spans and metrics, the after-fork pid refresh, and asyncio task counts."""

from __future__ import annotations

from typing import Any

from agent_child import run_child
from otlp_receiver import OtlpReceiver, attrs, otlp_receiver_fixture  # noqa: F401

START = """
    from pyrometer.config import Config
    from pyrometer import runtime
    cfg = Config(service_name="gauges", endpoint=ENDPOINT, traces_endpoint=ENDPOINT + "/v1/traces",
                 metrics_endpoint=ENDPOINT + "/v1/metrics", logs_endpoint=ENDPOINT + "/v1/logs",
                 export_interval=60.0, metrics_interval=60.0)
    runtime.start_agent(cfg)
"""


def _points(receiver: OtlpReceiver, name: str) -> list[tuple[dict[str, Any], Any, Any]]:
    return receiver.metric_points(name)


def test_last_value_per_series_as_gauge_points(otlp_receiver: OtlpReceiver) -> None:
    out = run_child(
        START
        + """
    import types
    ok = [
        runtime.record_gauge("test.depth", 5, {"queue": "a", "system": "x"}, "{message}"),
        runtime.record_gauge("test.depth", 9, {"system": "x", "queue": "a"}),  # same series
        runtime.record_gauge("test.depth", 2, {"queue": "b", "system": "x"}),
        runtime.record_gauge("test.ratio", 0.25, {"flag": True, "n": 3, "f": 1.5}),
        runtime.record_gauge("", 1),  # invalid: dropped and counted
        runtime.record_gauge("test.nan", float("nan")),  # invalid
        runtime.record_gauge("test.proxy", 1, types.MappingProxyType({"k": "v"})),  # any Mapping
    ]
    stats = n.gauge_stats()
    emit({"ok": ok, "stats": stats, "flushed": runtime.flush(10.0)})
    """,
        otlp_receiver.endpoint,
        PYROMETER_DEBUG="1",  # the pyrometer logger to stderr: one report per kind of drop
    )
    assert out["ok"] == [True, True, True, True, False, False, True]
    assert out["stats"] == {"series": 4, "dropped": 2}
    assert out["flushed"] is True
    depth = _points(otlp_receiver, "test.depth")
    first_export = [p for p in depth if p[2].time_unix_nano == depth[0][2].time_unix_nano]
    assert len(first_export) == 2
    by_queue = {attrs(p.attributes)["queue"]: (m, p) for _, m, p in first_export}
    metric, a = by_queue["a"]
    assert metric.WhichOneof("data") == "gauge" and metric.unit == "{message}"
    assert attrs(a.attributes) == {"queue": "a", "system": "x"}
    assert a.WhichOneof("value") == "as_int" and a.as_int == 9
    assert by_queue["b"][1].as_int == 2
    res, _, ratio = _points(otlp_receiver, "test.ratio")[0]
    assert ratio.WhichOneof("value") == "as_double" and ratio.as_double == 0.25
    assert attrs(ratio.attributes) == {"flag": True, "n": 3, "f": 1.5}
    assert res["service.name"] == "gauges"
    assert attrs(_points(otlp_receiver, "test.proxy")[0][2].attributes) == {"k": "v"}
    assert out["_stderr"].count("invalid reading") == 1  # two drops, reported once


def test_series_limit_drops_and_counts(otlp_receiver: OtlpReceiver) -> None:
    out = run_child(
        START
        + """
    results = [runtime.record_gauge("test.many", i, {"i": i}) for i in range(1010)]
    again = runtime.record_gauge("test.many", -1, {"i": 0})  # existing series still update
    emit({"recorded": sum(results), "again": again, "stats": n.gauge_stats(),
          "flushed": runtime.flush(10.0)})
    """,
        otlp_receiver.endpoint,
        PYROMETER_DEBUG="1",
    )
    assert out["recorded"] == 1000 and out["again"] is True
    assert out["stats"] == {"series": 1000, "dropped": 10}
    points = _points(otlp_receiver, "test.many")
    assert len({attrs(p.attributes)["i"] for _, _, p in points}) == 1000
    assert any(attrs(p.attributes)["i"] == 0 and p.as_int == -1 for _, _, p in points)
    assert out["_stderr"].count("series limit") == 1


def test_resource_update_reaches_spans_metrics_and_a_forked_child(
    otlp_receiver: OtlpReceiver,
) -> None:
    out = run_child(
        START
        + """
    from pyrometer import api
    ok = runtime.update_resource({"process.pid": os.getpid(), "pyrometer.worker.kind": "test",
                                  "pyrometer.worker.index": 3,
                                  "deployment.environment.name": "worker-env"})
    with api.span("in-parent"):
        pass
    runtime.record_gauge("test.parent", 1)
    runtime.flush(10.0)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        with api.span("in-child"):
            pass
        runtime.record_gauge("test.child", 1)
        flushed = runtime.flush(10.0)
        os.write(w, json.dumps({"pid": os.getpid(), "flushed": flushed}).encode())
        os._exit(0)
    os.close(w)
    child = json.loads(os.read(r, 4096).decode())
    os.waitpid(pid, 0)
    emit({"ok": ok, "parent": os.getpid(), "child": child, "updates": runtime.resource_updates()})
    """,
        otlp_receiver.endpoint,
    )
    assert out["ok"] is True and out["child"]["flushed"] is True
    parent, child = out["parent"], out["child"]["pid"]
    span_res = {s.name: res for res, s in otlp_receiver.spans()}
    p_res, c_res = span_res["in-parent"], span_res["in-child"]
    assert p_res["process.pid"] == parent and c_res["process.pid"] == child
    assert c_res["process.parent_pid"] == parent
    assert p_res["pyrometer.worker.index"] == c_res["pyrometer.worker.index"] == 3
    assert p_res["deployment.environment.name"] == "worker-env"  # typed update wins
    assert p_res["service.instance.id"] != c_res["service.instance.id"]
    (m_parent, _, _), (m_child, _, _) = (
        _points(otlp_receiver, "test.parent")[0],
        _points(otlp_receiver, "test.child")[0],
    )
    assert m_parent == p_res and m_child == c_res
    # The child forgets the parent's gauge series: they describe the parent.
    assert all(res["process.pid"] == parent for res, _, _ in _points(otlp_receiver, "test.parent"))


def test_asyncio_task_count_per_loop(otlp_receiver: OtlpReceiver) -> None:
    out = run_child(
        START
        + """
    import asyncio, threading

    async def main():
        runtime.watch_loop(asyncio.get_running_loop(), interval=0.05)
        stop = asyncio.Event()
        waiters = [asyncio.ensure_future(stop.wait()) for _ in range(7)]
        await asyncio.sleep(0.5)  # heartbeats count main + 7 waiters
        stop.set()
        await asyncio.gather(*waiters)

    asyncio.run(main())
    emit({"flushed": runtime.flush(10.0), "thread": threading.current_thread().name,
          "tid": threading.get_native_id()})
    """,
        otlp_receiver.endpoint,
    )
    assert out["flushed"] is True
    points = _points(otlp_receiver, "pyrometer.asyncio.tasks")
    assert points, [m.name for _, m in otlp_receiver.metrics()]
    _, metric, p = points[-1]
    assert metric.WhichOneof("data") == "gauge" and metric.unit == "{task}"
    assert attrs(p.attributes) == {"thread.id": out["tid"], "thread.name": out["thread"]}
    assert p.as_int == 8
