"""End to end: an agent process with two CPU-bound threads reports its GIL waits
(``pyrometer.gil.wait``) to a real pyrometer-server, whose query API then answers
``/api/v1/timeseries?metric=gil_wait_p99`` and ``/api/v1/runtime``'s ``gil_wait_p99_ms``
with numbers instead of null.
"""

from __future__ import annotations

import json
import urllib.request

from agent_child import run_child  # on sys.path via conftest.py

SCRIPT = """
    import threading
    start(service_name="gil-wait-svc", gil_duty=1.0)
    n._test_emit_spans(1, "warm-up", keep=False)  # starts the native threads
    stop = False
    def spin():
        x = 0
        while not stop:
            x += 1
    spinners = [threading.Thread(target=spin) for _ in range(2)]
    for t in spinners:
        t.start()
    n.gil_stats()  # map the spinners' thread states to native ids
    time.sleep(1.5)
    stop = True
    for t in spinners:
        t.join()
    s = n.gil_stats()
    emit({"flushed": n.flush(10.0), "episodes": s["wait_episodes"]})
"""


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.loads(resp.read())


def test_gil_wait_p99_is_queryable_after_a_contended_agent(pyrometer_server) -> None:
    out = run_child(SCRIPT, pyrometer_server.url)
    assert out["flushed"] is True
    assert out["episodes"] > 0

    series = get_json(
        f"{pyrometer_server.url}/api/v1/timeseries?service=gil-wait-svc&metric=gil_wait_p99"
        "&since=-10m&step=60s"
    )
    assert series["unit"] == "ms"
    values = [p["value"] for p in series["points"] if p["value"] is not None]
    assert values, series
    # A p99 wait for the GIL under two spinners: above 0, below a second (ms).
    assert all(0 < v < 1000 for v in values), values

    runtime = get_json(f"{pyrometer_server.url}/api/v1/runtime?service=gil-wait-svc&since=-10m")
    (instance,) = runtime["items"]
    assert instance["gil_wait_p99_ms"] is not None
    assert 0 < instance["gil_wait_p99_ms"] < 1000
