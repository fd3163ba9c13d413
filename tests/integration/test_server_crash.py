"""kill -9 at random points during concurrent ingest loses no acknowledged span.

A 200 from /v1/traces means the spans are in the fsynced WAL; after SIGKILL and restart every
acknowledged trace must read back whole. Bounded: 5 rounds of well under a second each.
"""

from __future__ import annotations

import random
import threading
import time

import requests
from pyrometer_server import PyrometerServer
from test_server_shutdown import PROTOBUF, span_count, trace_request

ROUNDS = 5
CLIENTS = 3
SPANS_PER_TRACE = 8


def test_kill9_loses_no_acknowledged_span(pyrometer_server: PyrometerServer) -> None:
    rng = random.Random(5)
    acked: list[int] = []
    lock = threading.Lock()
    next_trace = [1]

    def client(stop: threading.Event) -> None:
        session = requests.Session()
        while not stop.is_set():
            with lock:
                n = next_trace[0]
                next_trace[0] += 1
            try:
                resp = session.post(
                    pyrometer_server.url + "/v1/traces",
                    data=trace_request(n, SPANS_PER_TRACE),
                    headers=PROTOBUF,
                    timeout=10,
                )
            except requests.ConnectionError:
                return  # killed mid-request: not acknowledged, so nothing is owed
            if resp.status_code == 200:
                with lock:
                    acked.append(n)

    for _ in range(ROUNDS):
        stop = threading.Event()
        threads = [threading.Thread(target=client, args=(stop,)) for _ in range(CLIENTS)]
        for t in threads:
            t.start()
        time.sleep(rng.uniform(0.1, 0.5))
        pyrometer_server.kill9()
        stop.set()
        for t in threads:
            t.join(timeout=30)
        pyrometer_server.start()

    assert len(acked) > ROUNDS, "too few acknowledged requests to test anything"
    missing = [n for n in acked if span_count(pyrometer_server, n) != SPANS_PER_TRACE]
    assert missing == [], f"{len(missing)} of {len(acked)} acknowledged traces lost or partial"
