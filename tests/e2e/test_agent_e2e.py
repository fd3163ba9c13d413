"""End to end: a script using only the public API sends spans and metrics to a real receiver.

The script knows nothing of the native module: ``pyrometer.api._start(cfg)`` (what the bootstrap
calls), ``pyrometer.span`` and ``pyrometer.flush``. The receiver decodes with the official
opentelemetry-proto classes. Head sampling is off (ratio 0) for one endpoint to show that RED
metrics still count every request and that error traces are kept by the local tail keep.
"""

from __future__ import annotations

import collections
import sys
from pathlib import Path

UNIT = Path(__file__).resolve().parents[1] / "unit"
if str(UNIT) not in sys.path:
    sys.path.insert(0, str(UNIT))

from agent_child import run_child  # noqa: E402
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status  # noqa: E402
from otlp_receiver import OtlpReceiver, attrs, otlp_receiver_fixture  # noqa: E402, F401

SCRIPT = """
    import pyrometer
    from pyrometer import api
    from pyrometer.config import Config

    api._start(Config(
        service_name="e2e-shop", endpoint=ENDPOINT,
        traces_endpoint=ENDPOINT + "/v1/traces", metrics_endpoint=ENDPOINT + "/v1/metrics",
        logs_endpoint=ENDPOINT + "/v1/logs", sampler="parentbased_traceidratio", sampler_arg=0.0,
        export_interval=60.0, metrics_interval=60.0))

    for i in range(50):
        query = f"SELECT * FROM items WHERE id = {i}"
        with pyrometer.span("GET /items/{id}", kind="server",
                            attributes={"http.route": "/items/{id}",
                                        "http.response.status_code": 200}):
            with pyrometer.span("SELECT items", kind="client",
                                attributes={"db.system": "sqlite", "db.query.text": query}):
                pass
    try:
        with pyrometer.span("POST /checkout", kind="server",
                            attributes={"http.route": "/checkout"}):
            with pyrometer.span("charge card"):
                raise RuntimeError("card declined")
    except RuntimeError:
        pass
    emit({"flushed": pyrometer.flush(10.0)})
"""


def test_public_api_spans_and_metrics_reach_the_receiver(otlp_receiver: OtlpReceiver) -> None:
    out = run_child(SCRIPT, otlp_receiver.endpoint)
    assert out["flushed"] is True

    # Traces: sampling ratio 0 drops the 50 healthy requests; the failing one is tail-kept whole.
    spans = otlp_receiver.spans()
    names = collections.Counter(s.name for _, s in spans)
    assert names == {"POST /checkout": 1, "charge card": 1}
    by_name = {s.name: (res, s) for res, s in spans}
    res, root = by_name["POST /checkout"]
    _, child = by_name["charge card"]
    assert res["service.name"] == "e2e-shop"
    assert root.kind == Span.SPAN_KIND_SERVER
    assert child.trace_id == root.trace_id and child.parent_span_id == root.span_id
    assert child.status.code == Status.STATUS_CODE_ERROR
    assert any(e.name == "exception" for e in child.events)

    # RED metrics: every request counted even though its trace was not kept.
    server = collections.Counter()
    for _, metric, point in otlp_receiver.metric_points("http.server.request.duration"):
        assert metric.exponential_histogram.aggregation_temporality == 1  # DELTA
        server[attrs(point.attributes)["http.route"]] += point.count
    assert server == {"/items/{id}": 50, "/checkout": 1}
    db = otlp_receiver.metric_points("db.client.operation.duration")
    assert sum(p.count for _, _, p in db) == 50
    assert {attrs(p.attributes)["db.query.summary"] for _, _, p in db} == {
        "SELECT * FROM items WHERE id = ?"
    }
    errors = sum(p.as_int for _, _, p in otlp_receiver.metric_points("pyrometer.span.errors"))
    assert errors >= 1
    assert otlp_receiver.metric_points("process.memory.usage")
