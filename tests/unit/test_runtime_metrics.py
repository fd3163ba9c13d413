"""Runtime metrics: process readings (no GIL), GC probes via gc.callbacks, module and allocation
gauges, and asyncio loop lag from runtime.watch_loop — all exported as OTLP metrics."""

from __future__ import annotations

from typing import Any

from agent_child import run_child
from otlp_receiver import OtlpReceiver, attrs, otlp_receiver_fixture  # noqa: F401

CODE = """
    import asyncio, gc
    from pyrometer.config import Config
    from pyrometer import runtime
    cfg = Config(service_name="rt", endpoint=ENDPOINT, traces_endpoint=ENDPOINT + "/v1/traces",
                 metrics_endpoint=ENDPOINT + "/v1/metrics", logs_endpoint=ENDPOINT + "/v1/logs",
                 export_interval=60.0, metrics_interval=60.0)
    runtime.start_agent(cfg)
    for _ in range(3):
        gc.collect()

    async def main():
        runtime.watch_loop(asyncio.get_running_loop(), interval=0.05)
        await asyncio.sleep(0.1)
        time.sleep(0.3)  # blocks the loop: the next heartbeat fires late
        await asyncio.sleep(0.2)

    asyncio.run(main())
    emit({"flushed": runtime.flush(10.0)})
"""


def _values(receiver: OtlpReceiver, name: str) -> list[Any]:
    return [p for _, _, p in receiver.metric_points(name)]


def test_runtime_metrics_are_exported(otlp_receiver: OtlpReceiver) -> None:
    out = run_child(CODE, otlp_receiver.endpoint)
    assert out["flushed"] is True
    r = otlp_receiver
    modes: dict[str, float] = {}
    for p in _values(r, "process.cpu.time"):  # deltas: the exit-time exports may add ~0
        mode = attrs(p.attributes)["cpu.mode"]
        modes[mode] = modes.get(mode, 0.0) + p.as_double
    assert set(modes) == {"user", "system"} and modes["user"] > 0
    assert _values(r, "process.memory.usage")[0].as_int > 10_000_000
    peak = _values(r, "pyrometer.process.memory.peak")[0].as_int
    assert peak >= _values(r, "process.memory.usage")[0].as_int
    assert _values(r, "pyrometer.process.memory.pss")[0].as_int > 0
    assert _values(r, "process.open_file_descriptor.count")[0].as_int >= 3
    assert _values(r, "process.thread.count")[0].as_int >= 2  # main + exporter
    gen2 = [
        p
        for p in _values(r, "cpython.gc.collections")
        if attrs(p.attributes) == {"cpython.gc.generation": 2}
    ]
    assert gen2 and gen2[0].as_int >= 3
    pauses = [
        p
        for p in _values(r, "pyrometer.gc.pause")
        if attrs(p.attributes)["cpython.gc.generation"] == 2
    ]
    assert pauses and pauses[0].count >= 3 and pauses[0].sum > 0
    assert _values(r, "pyrometer.python.modules")[0].as_int > 10
    assert _values(r, "pyrometer.python.allocated_blocks")[0].as_int > 1000
    gens = {attrs(p.attributes)["cpython.gc.generation"] for p in _values(r, "pyrometer.gc.count")}
    assert gens == {0, 1, 2}
    lag = _values(r, "pyrometer.asyncio.loop_lag")[0]  # later exports (at exit) may follow
    assert lag.count >= 2
    assert lag.max >= 0.2  # the 0.3 s block delayed one heartbeat by at least that much


def test_no_native_thread_before_first_use(otlp_receiver: OtlpReceiver) -> None:
    out = run_child(
        """
        import threading
        def os_threads():
            with open("/proc/self/status") as f:
                return next(int(l.split()[1]) for l in f if l.startswith("Threads:"))
        from pyrometer.config import Config
        from pyrometer import runtime
        before = os_threads()
        runtime.start_agent(Config(service_name="lazy", endpoint=ENDPOINT,
                                   traces_endpoint=ENDPOINT + "/v1/traces",
                                   metrics_endpoint=ENDPOINT + "/v1/metrics",
                                   logs_endpoint=ENDPOINT + "/v1/logs"))
        after_start = os_threads()
        n._test_emit_spans(1, "first")
        emit({"before": before, "after_start": after_start, "after_span": os_threads(),
              "python_threads": threading.active_count()})
        """,
        otlp_receiver.endpoint,
    )
    assert out["after_start"] == out["before"]  # start_agent starts nothing (gevent-safe)
    assert out["after_span"] == out["before"] + 2  # exporter + GIL sampler, on first use
    assert out["python_threads"] == 1  # native threads are invisible to Python
