"""End to end: the agent, used through its public API only, reports to a real pyrometer-server.

The child script starts the agent the way the bootstrap does (``api._start(cfg)``), with head
sampling at 0: only the failing request's trace may be stored (tail keep), while the server's
golden signals must still count every request, because the agent's RED metrics carry them.
Both are read back through the server's query API.
"""

from __future__ import annotations

import json
import urllib.request

from agent_child import run_child  # on sys.path via conftest.py

SCRIPT = """
    import pyrometer
    from pyrometer import api
    from pyrometer.config import Config

    api._start(Config(
        service_name="e2e-shop", endpoint=ENDPOINT,
        traces_endpoint=ENDPOINT + "/v1/traces", metrics_endpoint=ENDPOINT + "/v1/metrics",
        logs_endpoint=ENDPOINT + "/v1/logs", sampler="parentbased_traceidratio", sampler_arg=0.0,
        export_interval=60.0, metrics_interval=60.0))

    for i in range(40):
        with pyrometer.span("GET /items/{id}", kind="server",
                            attributes={"http.route": "/items/{id}",
                                        "http.response.status_code": 200}):
            pass
    trace_id = None
    try:
        with pyrometer.span("POST /checkout", kind="server",
                            attributes={"http.route": "/checkout",
                                        "http.response.status_code": 500}) as root:
            trace_id = root.trace_id
            with pyrometer.span("charge card"):
                raise RuntimeError("card declined")
    except RuntimeError:
        pass
    emit({"flushed": pyrometer.flush(10.0), "trace_id": trace_id})
"""


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.loads(resp.read())


def test_public_api_traces_and_red_metrics_are_queryable(pyrometer_server) -> None:
    out = run_child(SCRIPT, pyrometer_server.url)
    assert out["flushed"] is True

    trace = get_json(f"{pyrometer_server.url}/api/v1/traces/{out['trace_id']}")
    spans = {s["name"]: s for s in trace["spans"]}
    assert set(spans) == {"POST /checkout", "charge card"}
    root, child = spans["POST /checkout"], spans["charge card"]
    assert root["service"] == "e2e-shop"
    assert child["parent_span_id"] == root["span_id"]
    assert child["status"]["code"] == "error"
    assert root["attributes"]["pyrometer.keep_reason"] == "error"

    # Golden signals come from the agent's RED metrics: all 41 requests, not the 1 kept trace.
    services = get_json(f"{pyrometer_server.url}/api/v1/services?since=-1h")
    shop = [s for s in services["items"] if s["service"] == "e2e-shop"]
    assert len(shop) == 1 and shop[0]["requests"] == 41 and shop[0]["errors"] == 1
    endpoints = get_json(f"{pyrometer_server.url}/api/v1/services/e2e-shop/endpoints?since=-1h")
    counts = {e["endpoint"]: e["requests"] for e in endpoints["items"]}
    assert counts == {"/items/{id}": 40, "/checkout": 1}
