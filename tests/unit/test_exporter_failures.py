"""The exporter under a failing collector: down, 429 + Retry-After, 503, 400, partial success.

Memory stays bounded and drops are counted while the collector is down; delivery resumes when it
returns; retries honour Retry-After; non-retryable answers are not retried; a partial success is
logged once.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from agent_child import PRELUDE, child_env, run_child
from otlp_receiver import OtlpReceiver, otlp_receiver_fixture  # noqa: F401


def test_collector_down_bounds_memory_counts_drops_then_resumes(
    otlp_receiver: OtlpReceiver,
) -> None:
    port = otlp_receiver.port
    otlp_receiver.stop()  # the collector is down: connections are refused
    code = """
        start(max_queue_spans=2048, export_interval_s=0.2, retry_initial_s=0.05,
              retry_max_s=0.2, max_attempts=3)
        n._test_emit_spans(2000, "warmup", spans_per_trace=10)
        n.flush(0.5)
        before = rss_bytes()
        accepted = n._test_emit_spans(1_000_000, "while-down", spans_per_trace=10)
        after = rss_bytes()
        # A flush's metrics export fails after the drops: the drop counts it carried are lost
        # with it, and must still reach the collector when it is back.
        failed = n.pipeline_stats()["dropped_points"]
        n.flush(5.0)
        deadline = time.time() + 30
        while n.pipeline_stats()["dropped_points"] == failed and time.time() < deadline:
            time.sleep(0.01)
        stats = n.pipeline_stats()
        emit({"accepted": accepted, "rss_added": after - before, "stats": stats,
              "metrics_export_failed": stats["dropped_points"] > failed})
        sys.stdin.readline()  # the test brings the collector back
        deadline = time.time() + 30
        while time.time() < deadline and not n.flush(2.0):  # the backlog drains first
            pass
        n._test_emit_spans(50, "after-recovery", spans_per_trace=10)
        emit({"flushed": n.flush(10.0), "stats": n.pipeline_stats()})
    """
    proc = subprocess.Popen(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(code)],
        env=child_env(f"http://127.0.0.1:{port}"),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdin is not None
        line = proc.stdout.readline()
        assert line.startswith("RESULT "), line
        down = json.loads(line[7:])
        assert down["metrics_export_failed"]
        assert down["rss_added"] < 20 * 1024 * 1024
        assert down["accepted"] < 1_000_000  # most were refused by the bounded queue
        assert down["stats"]["dropped_spans"] >= 1_000_000 - down["accepted"]
        assert down["stats"]["sent_spans"] == 0
        assert "127.0.0.1" in down["stats"]["last_error"]

        otlp_receiver.start(port=port)  # the collector is back
        proc.stdin.write("go\n")
        proc.stdin.flush()
        out, err = proc.communicate(timeout=90)
        assert proc.returncode == 0, err
        final = json.loads([ln for ln in out.splitlines() if ln.startswith("RESULT ")][-1][7:])
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert final["flushed"] is True
    assert sum(1 for _, s in otlp_receiver.spans() if s.name == "after-recovery") == 50
    assert final["stats"]["sent_spans"] >= 50
    dropped = otlp_receiver.metric_points("pyrometer.exporter.dropped")
    by_signal: dict[str, int] = {}
    for _, _, p in dropped:
        signal = next(kv.value.string_value for kv in p.attributes if kv.key == "signal")
        by_signal[signal] = by_signal.get(signal, 0) + p.as_int
    assert by_signal["traces"] >= 1_000_000 - down["accepted"]


def test_429_retry_after_is_honoured_and_nothing_is_duplicated(
    otlp_receiver: OtlpReceiver,
) -> None:
    otlp_receiver.script(429, retry_after="1", path="/v1/traces")
    out = run_child(
        """
        start(retry_initial_s=0.01)
        n._test_emit_spans(5, "throttled", spans_per_trace=5)
        emit({"flushed": n.flush(15.0), "stats": n.pipeline_stats()})
        """,
        otlp_receiver.endpoint,
    )
    assert out["flushed"] is True
    traces = [r for r in otlp_receiver.requests if r.path == "/v1/traces"]
    assert [r.status for r in traces] == [429, 200]
    # The server asked for 1 s: the exporter's own backoff (10 ms) must not cut it short.
    assert traces[1].at - traces[0].at >= 0.9
    assert len(otlp_receiver.spans()) == 5
    assert out["stats"]["retries"] == 1


def test_503_is_retried_with_backoff_then_delivered(otlp_receiver: OtlpReceiver) -> None:
    otlp_receiver.script(503, times=2, path="/v1/traces")
    out = run_child(
        """
        start(retry_initial_s=0.05)
        n._test_emit_spans(3, "unavailable-then-ok", spans_per_trace=3)
        emit({"flushed": n.flush(15.0), "stats": n.pipeline_stats()})
        """,
        otlp_receiver.endpoint,
    )
    assert out["flushed"] is True
    statuses = [r.status for r in otlp_receiver.requests if r.path == "/v1/traces"]
    assert statuses == [503, 503, 200]
    assert len(otlp_receiver.spans()) == 3
    assert out["stats"]["dropped_spans"] == 0


def test_400_is_not_retried_and_is_counted_as_dropped(otlp_receiver: OtlpReceiver) -> None:
    otlp_receiver.script(400, path="/v1/traces")
    out = run_child(
        """
        start(retry_initial_s=0.01)
        n._test_emit_spans(4, "rejected", spans_per_trace=4)
        emit({"flushed": n.flush(5.0), "stats": n.pipeline_stats(),
              "messages": n.take_messages()})
        """,
        otlp_receiver.endpoint,
    )
    assert out["flushed"] is False
    assert [r.status for r in otlp_receiver.requests if r.path == "/v1/traces"] == [400]
    assert out["stats"]["dropped_spans"] == 4
    assert any("HTTP 400" in m for m in out["messages"])


def test_partial_success_is_logged_once(otlp_receiver: OtlpReceiver) -> None:
    otlp_receiver.script(200, times=2, rejected=3, message="span too old", path="/v1/traces")
    out = run_child(
        """
        import logging
        from pyrometer.config import Config
        from pyrometer import runtime
        records = []
        class Keep(logging.Handler):
            def emit(self, record):
                records.append(record.getMessage())
        logging.getLogger("pyrometer").addHandler(Keep())
        runtime.start_agent(Config(service_name="p", endpoint=ENDPOINT,
                                   traces_endpoint=ENDPOINT + "/v1/traces",
                                   metrics_endpoint=ENDPOINT + "/v1/metrics",
                                   logs_endpoint=ENDPOINT + "/v1/logs"))
        for _ in range(2):
            n._test_emit_spans(5, "partly", spans_per_trace=5)
            runtime.flush(10.0)
        emit({"records": records, "stats": n.pipeline_stats()})
        """,
        otlp_receiver.endpoint,
    )
    partial = [m for m in out["records"] if "partially rejected" in m]
    assert len(partial) == 1 and "span too old" in partial[0]
    assert out["stats"]["partial_rejected"] == 6
    assert out["stats"]["retries"] == 0  # a partial success is a success: never retried


def test_shutdown_cuts_a_long_retry_after_wait(otlp_receiver: OtlpReceiver) -> None:
    # The collector asks for 60 s; shutdown (flush_timeout_s=1) must not wait for it, so the
    # child finishes well inside run_child's 20 s limit, and the batch counts as dropped.
    otlp_receiver.script(503, retry_after="60", path="/v1/traces")
    out = run_child(
        """
        start(flush_timeout_s=1.0)
        n._test_emit_spans(3, "late", spans_per_trace=3)
        first = n.flush(0.5)  # starts the send; the 503 + Retry-After: 60 wait begins
        n.shutdown()
        emit({"first": first, "stats": n.pipeline_stats()})
        """,
        otlp_receiver.endpoint,
        timeout=20,
    )
    assert out["first"] is False
    assert out["stats"]["exporter_running"] is False
    assert out["stats"]["dropped_spans"] == 3


def test_bad_endpoint_never_raises_and_is_reported_once(otlp_receiver: OtlpReceiver) -> None:
    out = run_child(
        """
        import logging
        from pyrometer.config import Config
        from pyrometer import runtime
        records = []
        class Keep(logging.Handler):
            def emit(self, record):
                records.append(record.getMessage())
        logging.getLogger("pyrometer").addHandler(Keep())
        runtime.start_agent(Config(service_name="tls", endpoint="https://127.0.0.1:1",
                                   traces_endpoint="https://127.0.0.1:1/v1/traces",
                                   metrics_endpoint=ENDPOINT + "/v1/metrics",
                                   logs_endpoint=ENDPOINT + "/v1/logs"))
        for _ in range(3):
            n._test_emit_spans(2, "nowhere")
            runtime.flush(2.0)
        emit({"records": records, "stats": n.pipeline_stats()})
        """,
        otlp_receiver.endpoint,
    )
    tls = [m for m in out["records"] if "https is not supported" in m]
    assert len(tls) == 1
    assert out["stats"]["dropped_spans"] == 6
    assert otlp_receiver.metric_points("process.memory.usage")  # the other signals still flow
