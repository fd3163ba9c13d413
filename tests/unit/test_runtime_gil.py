"""GIL contention measured by the native sampler, which never takes the GIL itself.

Behaviour, not timing: two CPU-bound Python threads keep the GIL held nearly all the time and
hand it over (switches); a sleeping interpreter leaves it free. Bounds are deliberately loose.
Runs the same on every CPython the reader supports (3.9 to 3.13 with a GIL; the GIL's layout
differs per version, see native/agent/cpython/gil_layout.h).
"""

from __future__ import annotations

import sys
import sysconfig

from agent_child import run_child
from otlp_receiver import OtlpReceiver, otlp_receiver_fixture  # noqa: F401

CODE = """
    import threading
    start(gil_duty=1.0)  # sample continuously: the windows below are 1 s
    n._test_emit_spans(1, "warm-up", keep=False)  # first use starts the native threads
    time.sleep(0.2)

    def window(fn):
        a = n.gil_stats()
        fn()
        b = n.gil_stats()
        samples = b["samples"] - a["samples"]
        held = b["held_samples"] - a["held_samples"]
        per_thread = {
            tid: n_ - a["held_by_thread"].get(tid, 0) for tid, n_ in b["held_by_thread"].items()
        }
        return {"samples": samples, "ratio": held / max(samples, 1),
                "switches": b["switches"] - a["switches"], "per_thread": per_thread}

    idle = window(lambda: time.sleep(1.0))

    def solo():  # one thread alone: the GIL never changes hands, the pace slows down
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            pass
    alone = window(solo)

    stop = False
    def spin():
        x = 0
        while not stop:
            x += 1
    t = threading.Thread(target=spin)
    t.start()
    def busy():
        end = time.monotonic() + 1.0
        y = 0
        while time.monotonic() < end:
            y += 1
    contended = window(busy)
    stop = True
    t.join()
    emit({"supported": n.gil_stats()["supported"], "idle": idle, "alone": alone, "busy": contended,
          "spinner": t.native_id, "main": threading.main_thread().native_id})
"""


def test_gil_held_ratio_switches_and_per_thread_share(otlp_receiver: OtlpReceiver) -> None:
    out = run_child(CODE, otlp_receiver.endpoint)
    assert out["supported"] is True, out
    idle, busy = out["idle"], out["busy"]
    assert idle["samples"] > 50 and busy["samples"] > 50
    assert idle["ratio"] < 0.3
    # Readings taken at the slow pace count for the periods they stand for.
    assert out["alone"]["samples"] > 50 and out["alone"]["ratio"] > 0.5
    assert busy["ratio"] > 0.5
    assert busy["switches"] > 0
    # Both CPU-bound threads are seen holding the GIL (keys are native thread ids).
    shares = {int(k): v for k, v in busy["per_thread"].items()}
    assert shares.get(out["spinner"], 0) > 0
    assert shares.get(out["main"], 0) > 0


def test_gil_metrics_are_exported(otlp_receiver: OtlpReceiver) -> None:
    run_child(
        """
        start(gil_duty=1.0)
        n._test_emit_spans(1, "warm-up", keep=False)
        end = time.monotonic() + 0.3
        while time.monotonic() < end:
            pass
        emit({"flushed": n.flush(10.0)})
        """,
        otlp_receiver.endpoint,
    )
    (_, metric, point), *_ = otlp_receiver.metric_points("pyrometer.gil.held_ratio")
    assert metric.WhichOneof("data") == "gauge"
    assert 0.0 <= point.as_double <= 1.0
    assert otlp_receiver.metric_points("pyrometer.gil.switches")


def test_gil_support_follows_the_interpreter(otlp_receiver: OtlpReceiver) -> None:
    # Supported wherever there is a GIL in a version the reader knows; otherwise a reason.
    out = run_child(
        """
        start(gil_duty=1.0)
        emit(n.gil_stats())
        """,
        otlp_receiver.endpoint,
    )
    if sysconfig.get_config_var("Py_GIL_DISABLED"):
        assert out["supported"] is False and "free-threaded" in out["reason"], out
    elif (3, 9) <= sys.version_info[:2] <= (3, 13):
        assert out["supported"] is True and "reason" not in out, out
    else:
        assert out["supported"] is False and out["reason"], out
