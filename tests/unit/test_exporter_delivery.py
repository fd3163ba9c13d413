"""The exporter delivers spans, RED metrics, runtime metrics and logs to a real OTLP receiver.

Each test drives the native pipeline in a child interpreter (one pipeline per process) and checks
what the receiver decoded with the official opentelemetry-proto classes.
"""

from __future__ import annotations

from agent_child import run_child
from opentelemetry.proto.metrics.v1.metrics_pb2 import AggregationTemporality
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from otlp_receiver import OtlpReceiver, attrs, otlp_receiver_fixture  # noqa: F401

DELTA = AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA


def test_spans_arrive_gzipped_with_resource_and_attributes(otlp_receiver: OtlpReceiver) -> None:
    out = run_child(
        """
        start(headers={"X-Team": "payments"})
        n._test_emit_spans(
            7, "GET /orders/{id}", kind=2,
            attributes={"http.route": "/orders/{id}", "http.response.status_code": 200,
                        "ratio": 0.5, "ok": True, "tags": ["a", "b"]},
            spans_per_trace=7)
        emit({"flushed": n.flush(10.0), "stats": n.pipeline_stats()})
        """,
        otlp_receiver.endpoint,
    )
    assert out["flushed"] is True
    assert out["stats"]["sent_spans"] == 7
    spans = otlp_receiver.spans()
    assert len(spans) == 7
    resource, span = spans[0]
    assert resource["service.name"] == "test-svc"
    assert resource["deployment.environment.name"] == "test"
    assert resource["telemetry.sdk.name"] == "pyrometer"
    assert resource["service.instance.id"] == out["stats"]["instance_id"]
    assert span.name == "GET /orders/{id}"
    assert span.kind == Span.SPAN_KIND_SERVER
    assert len(span.trace_id) == 16 and len(span.span_id) == 8
    assert len({s.trace_id for _, s in spans}) == 1  # one trace of 7 spans
    assert attrs(span.attributes) == {
        "http.route": "/orders/{id}",
        "http.response.status_code": 200,
        "ratio": 0.5,
        "ok": True,
        "tags": ["a", "b"],
    }
    assert span.end_time_unix_nano > span.start_time_unix_nano
    req = next(r for r in otlp_receiver.requests if r.path == "/v1/traces")
    assert req.headers["content-encoding"] == "gzip"
    assert req.headers["content-type"] == "application/x-protobuf"
    assert req.headers["x-team"] == "payments"


def test_compression_none_sends_plain_protobuf(otlp_receiver: OtlpReceiver) -> None:
    out = run_child(
        """
        start(compression="none")
        n._test_emit_spans(3, "plain", kind=1, attributes={"k": "v"}, spans_per_trace=3)
        flushed = n.flush(10.0)
        try:
            n.start_pipeline("s", {}, "http://x/1", "http://x/2", "http://x/3", {},
                             compression="zstd")
        except ValueError as exc:
            emit({"flushed": flushed, "error": str(exc)})
        """,
        otlp_receiver.endpoint,
    )
    assert out["flushed"] is True
    assert out["error"] == "compression must be 'gzip' or 'none'"
    assert [s.name for _, s in otlp_receiver.spans()] == ["plain"] * 3
    req = next(r for r in otlp_receiver.requests if r.path == "/v1/traces")
    assert "content-encoding" not in req.headers


def test_token_becomes_bearer_header_via_start_agent(otlp_receiver: OtlpReceiver) -> None:
    out = run_child(
        """
        from pyrometer.config import Config
        from pyrometer import runtime
        cfg = Config(service_name="cfg-svc", endpoint=ENDPOINT,
                     traces_endpoint=ENDPOINT + "/v1/traces",
                     metrics_endpoint=ENDPOINT + "/v1/metrics",
                     logs_endpoint=ENDPOINT + "/v1/logs", token="s3cret")
        first = runtime.start_agent(cfg)
        second = runtime.start_agent(cfg)  # safe to call twice
        n._test_emit_spans(1, "job")
        emit({"first": first, "second": second, "flushed": runtime.flush(10.0)})
        """,
        otlp_receiver.endpoint,
    )
    assert (out["first"], out["second"], out["flushed"]) == (True, False, True)
    req = next(r for r in otlp_receiver.requests if r.path == "/v1/traces")
    assert req.headers["authorization"] == "Bearer s3cret"
    assert otlp_receiver.spans()[0][0]["service.name"] == "cfg-svc"


def test_a_cycle_under_steady_load_sends_what_was_queued_and_stops(
    otlp_receiver: OtlpReceiver,
) -> None:
    # Spans arrive all the time, a few between any two requests. Each timer tick must send
    # what was queued when it fired and then wait for the next tick: a cycle that chased
    # arrivals would post a request per round trip for as long as the load lasts.
    out = run_child(
        """
        start(export_interval_s=0.05)
        emitted, t0 = 0, time.monotonic()
        while time.monotonic() - t0 < 1.5:
            emitted += n._test_emit_spans(2, "steady")
            time.sleep(0.0005)
        elapsed = time.monotonic() - t0
        emit({"emitted": emitted, "elapsed": elapsed, "flushed": n.flush(10.0),
              "stats": n.pipeline_stats()})
        """,
        otlp_receiver.endpoint,
    )
    assert out["flushed"] is True
    assert out["stats"]["sent_spans"] == out["emitted"] > 300  # a few per round trip at least
    assert len(otlp_receiver.spans()) == out["emitted"]
    posts = [r for r in otlp_receiver.requests if r.path == "/v1/traces"]
    ticks = out["elapsed"] / 0.05
    full_batches = out["emitted"] / 512
    # One request per tick (what queues in 50 ms is far below a batch), at most one per full
    # batch, the flush, a little slack. Chasing arrivals made about 2.5 per tick here.
    assert len(posts) <= ticks + full_batches + 5, (len(posts), ticks, out["emitted"])


def test_red_metrics_count_every_span_as_delta(otlp_receiver: OtlpReceiver) -> None:
    run_child(
        """
        start()
        # keep=False: sampling dropped every trace, yet RED must count all of them.
        n._test_emit_spans(900, "GET /a", kind=2, keep=False,
                           attributes={"http.route": "/a", "http.response.status_code": 200})
        n._test_emit_spans(100, "GET /a", kind=2, keep=False, error=True,
                           attributes={"http.route": "/a", "http.response.status_code": 500})
        n._test_emit_spans(40, "SELECT", kind=3, keep=False,
                           attributes={"db.system": "postgresql",
                                       "db.query.text": "SELECT * FROM users WHERE id = 7"})
        n._test_emit_spans(10, "GET", kind=3, keep=False,
                           attributes={"server.address": "api.example.com",
                                       "http.response.status_code": 200})
        n._test_emit_spans(5, "nightly", kind=1, keep=False)
        first = n.flush(10.0)
        n._test_emit_spans(3, "GET /a", kind=2, keep=False,
                           attributes={"http.route": "/a", "http.response.status_code": 200})
        emit({"first": first, "second": n.flush(10.0)})
        """,
        otlp_receiver.endpoint,
    )
    assert otlp_receiver.spans() == []  # nothing kept, nothing exported as traces
    server = otlp_receiver.metric_points("http.server.request.duration")
    by_class: dict[str, int] = {}
    for _, metric, point in server:
        assert metric.exponential_histogram.aggregation_temporality == DELTA
        assert metric.unit == "s"
        a = attrs(point.attributes)
        assert a["http.route"] == "/a" and a["span.kind"] == "server"
        by_class[a["status_class"]] = by_class.get(a["status_class"], 0) + point.count
    assert by_class == {"2xx": 903, "5xx": 100}  # 900 + 3 in the second (delta) interval
    counts = sorted(p.count for _, _, p in server if attrs(p.attributes)["status_class"] == "2xx")
    assert counts == [3, 900]
    errors = otlp_receiver.metric_points("pyrometer.span.errors")
    assert all(m.sum.aggregation_temporality == DELTA and m.sum.is_monotonic for _, m, _ in errors)
    assert sum(p.as_int for _, _, p in errors) == 100
    (_, _, db), *rest = otlp_receiver.metric_points("db.client.operation.duration")
    assert rest == []
    assert db.count == 40
    db_attrs = attrs(db.attributes)
    assert db_attrs["db.system"] == "postgresql"
    assert db_attrs["db.query.summary"] == "SELECT * FROM users WHERE id = ?"
    assert len(db_attrs["pyrometer.db.fingerprint"]) == 16
    (_, _, client), *_ = otlp_receiver.metric_points("http.client.request.duration")
    assert client.count == 10 and attrs(client.attributes)["server.address"] == "api.example.com"
    (_, _, other), *_ = otlp_receiver.metric_points("pyrometer.span.duration")
    assert other.count == 5 and attrs(other.attributes)["pyrometer.operation"] == "nightly"
    assert abs(other.sum - 5 * 0.001) < 1e-6


def test_logs_arrive_with_severity_and_trace_context(otlp_receiver: OtlpReceiver) -> None:
    out = run_child(
        """
        start()
        ok = n.submit_log(40, "payment failed", {"order": 42}, b"\\x01" * 16, b"\\x02" * 8,
                          event_name="", severity_text="ERROR")
        n.submit_log(20, "insight", None, event_name="pyrometer.insight")
        emit({"ok": ok, "flushed": n.flush(10.0)})
        """,
        otlp_receiver.endpoint,
    )
    assert out["ok"] and out["flushed"]
    logs = otlp_receiver.logs()
    assert len(logs) == 2
    _, rec = logs[0]
    assert rec.body.string_value == "payment failed"
    assert rec.severity_number == 17 and rec.severity_text == "ERROR"
    assert rec.trace_id == b"\x01" * 16 and rec.span_id == b"\x02" * 8
    assert attrs(rec.attributes) == {"order": 42}
    assert logs[1][1].event_name == "pyrometer.insight"
    assert logs[1][1].severity_number == 9
