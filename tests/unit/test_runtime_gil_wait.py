"""GIL wait measured without taking the GIL: the sampler reads each Python thread's
/proc/self/task/<tid>/syscall and counts it as waiting while it sleeps in a futex on the GIL's
condition variable or mutex.

Behaviour, not timing: two CPU-bound threads take turns, so each is seen waiting for the GIL;
a thread sleeping in time.sleep sits in clock_nanosleep and is never counted; an interpreter
whose only thread sleeps has nobody waiting. Bounds are deliberately loose (the machine may be
loaded: a waiter that is runnable but not yet on a CPU reads as "running", not waiting).
"""

from __future__ import annotations

from agent_child import run_child
from otlp_receiver import OtlpReceiver, otlp_receiver_fixture  # noqa: F401

CODE = """
    import threading
    start(gil_duty=1.0)  # sample continuously: the windows below are about a second
    n._test_emit_spans(1, "warm-up", keep=False)  # first use starts the native threads
    time.sleep(0.2)

    def window(fn):
        a = n.gil_stats()  # also refreshes the thread-state -> native id map
        fn()
        b = n.gil_stats()
        per_thread = {}
        for tid, (obs, wait) in b["wait_by_thread"].items():
            obs0, wait0 = a["wait_by_thread"].get(tid, (0, 0))
            per_thread[tid] = [obs - obs0, wait - wait0]
        return {"ticks": b["wait_ticks"] - a["wait_ticks"],
                "waiting": b["waiting_samples"] - a["waiting_samples"],
                "episodes": b["wait_episodes"] - a["wait_episodes"],
                "episode_s": b["wait_episode_seconds"] - a["wait_episode_seconds"],
                "errors": b["wait_read_errors"], "per_thread": per_thread}

    idle = window(lambda: time.sleep(1.0))

    stop = False
    def spin():
        x = 0
        while not stop:
            x += 1
    spinners = [threading.Thread(target=spin) for _ in range(2)]
    sleeper = threading.Thread(target=time.sleep, args=(3.0,))
    for t in spinners + [sleeper]:
        t.start()
    time.sleep(0.1)
    busy = window(lambda: time.sleep(1.5))
    stop = True
    for t in spinners + [sleeper]:
        t.join()
    s = n.gil_stats()
    emit({"supported": s["wait_supported"], "reason": s.get("wait_reason"), "idle": idle,
          "busy": busy, "spinners": [t.native_id for t in spinners], "sleeper": sleeper.native_id,
          "main": threading.main_thread().native_id})
"""


def ratio(window: dict, tid: int) -> float:
    observed, waiting = window["per_thread"].get(str(tid), [0, 0])
    assert observed > 20, f"thread {tid} barely observed: {window}"
    return waiting / observed


def test_cpu_bound_threads_wait_for_the_gil_sleepers_do_not(otlp_receiver: OtlpReceiver) -> None:
    out = run_child(CODE, otlp_receiver.endpoint)
    assert out["supported"] is True, out["reason"]  # CPython 3.9-3.13 on Linux x86_64/arm64
    idle, busy = out["idle"], out["busy"]
    assert idle["ticks"] > 20 and busy["ticks"] > 20
    assert busy["errors"] == 0
    # Only the main thread, asleep: the GIL is free, nobody waits.
    assert idle["waiting"] == 0
    # Two spinners: each waits while the other holds the GIL (about half the time on an idle
    # machine; less when the machine is loaded). The sleeper and the sleeping main thread do not.
    spin_ratios = [ratio(busy, tid) for tid in out["spinners"]]
    assert all(r > 0.02 for r in spin_ratios), spin_ratios
    sleeper, main = ratio(busy, out["sleeper"]), ratio(busy, out["main"])
    assert sleeper < 0.05 and main < 0.05, (sleeper, main)
    assert min(spin_ratios) > 2 * max(sleeper, main)
    # Finished waits were timed: their mean lies between a tenth of a millisecond and a second.
    assert busy["episodes"] > 0
    mean = busy["episode_s"] / busy["episodes"]
    assert 0.0001 < mean < 1.0, mean


def test_gil_wait_metrics_are_exported(otlp_receiver: OtlpReceiver) -> None:
    out = run_child(
        """
        import threading
        start(gil_duty=1.0)
        n._test_emit_spans(1, "warm-up", keep=False)
        stop = False
        def spin():
            x = 0
            while not stop:
                x += 1
        spinners = [threading.Thread(target=spin) for _ in range(2)]
        for t in spinners:
            t.start()
        n.gil_stats()  # map the spinners' thread states to native ids
        time.sleep(1.0)
        stop = True
        for t in spinners:
            t.join()
        emit({"flushed": n.flush(10.0), "spinners": [t.native_id for t in spinners]})
        """,
        otlp_receiver.endpoint,
    )
    assert out["flushed"] is True
    (_, metric, point), *_ = otlp_receiver.metric_points("pyrometer.gil.wait")
    assert metric.WhichOneof("data") == "exponential_histogram"
    assert metric.unit == "s"
    assert metric.exponential_histogram.aggregation_temporality == 1  # DELTA
    assert point.count > 0 and point.sum > 0
    (_, _, waiting), *_ = otlp_receiver.metric_points("pyrometer.gil.waiting_threads")
    assert waiting.as_double > 0
    per_thread = {
        p.attributes[0].value.int_value: p.as_double
        for _, _, p in otlp_receiver.metric_points("pyrometer.gil.thread_wait_ratio")
    }
    assert set(out["spinners"]) <= set(per_thread), per_thread
    assert all(0 < r <= 1 for r in per_thread.values())


FORK_CODE = """
    import threading
    start(gil_duty=1.0)
    n._test_emit_spans(1, "warm-up", keep=False)

    def contend(seconds):
        stop = False
        def spin():
            x = 0
            while not stop:
                x += 1
        spinners = [threading.Thread(target=spin) for _ in range(2)]
        for t in spinners:
            t.start()
        n.gil_stats()  # map them
        time.sleep(seconds)
        stop = True
        for t in spinners:
            t.join()
        return [t.native_id for t in spinners]

    def syscall_files(pid):
        out = []
        for fd in os.listdir("/proc/self/fd"):
            try:
                target = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:
                continue
            if target.startswith(f"/proc/{pid}/task/") and target.endswith("/syscall"):
                out.append(target)
        return out

    contend(0.5)
    parent = os.getpid()
    parent_files = len(syscall_files(parent))
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        inherited = syscall_files(parent)  # the fork handler closed them
        fresh = n.gil_stats()["wait_ticks"]
        n._test_emit_spans(1, "child", keep=False)  # restarts the native threads
        spinners = contend(1.0)
        s = n.gil_stats()
        waits = {tid: s["wait_by_thread"].get(tid, (0, 0))[1] for tid in spinners}
        os.write(w, json.dumps({"inherited": inherited, "fresh": fresh, "waits": waits}).encode())
        os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.waitpid(pid, 0)
    emit({"parent_files": parent_files, "child": json.loads(data)})
"""


def test_wait_sampling_restarts_in_a_forked_child(otlp_receiver: OtlpReceiver) -> None:
    out = run_child(FORK_CODE, otlp_receiver.endpoint)
    assert out["parent_files"] > 0  # the parent kept its threads' files open
    child = out["child"]
    assert child["inherited"] == []  # none of the parent's descriptors survive in the child
    assert child["fresh"] == 0  # counters start from zero in the child
    assert all(w > 0 for w in child["waits"].values()), child["waits"]


INTERVAL_CODE = """
    import sys, threading
    start(gil_duty=1.0)
    n._test_emit_spans(1, "warm-up", keep=False)

    def mean_wait(switch_interval):
        sys.setswitchinterval(switch_interval)
        stop = False
        def spin():
            x = 0
            while not stop:
                x += 1
        spinners = [threading.Thread(target=spin) for _ in range(2)]
        for t in spinners:
            t.start()
        a = n.gil_stats()
        time.sleep(1.5)
        b = n.gil_stats()
        stop = True
        for t in spinners:
            t.join()
        episodes = b["wait_episodes"] - a["wait_episodes"]
        return (b["wait_episode_seconds"] - a["wait_episode_seconds"]) / max(episodes, 1), episodes

    emit({"short": mean_wait(0.005), "long": mean_wait(0.05)})
"""


def test_waits_lengthen_with_the_switch_interval(otlp_receiver: OtlpReceiver) -> None:
    # A spinner waits about one switch interval for the other to be asked to drop the GIL, so
    # 10x the interval gives much longer recorded waits: the episodes measure real waits.
    out = run_child(INTERVAL_CODE, otlp_receiver.endpoint)
    (short_mean, short_n), (long_mean, long_n) = out["short"], out["long"]
    assert short_n > 0 and long_n > 0
    assert long_mean > 2 * short_mean, out
