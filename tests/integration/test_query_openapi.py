"""Every /api/v1 endpoint's live response validates against docs/openapi.yaml.

The server is loaded with the deterministic traffic of query_traffic.py (plus two pprof uploads)
so the responses carry real items; every path of the spec must be exercised here.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml
from jsonschema import Draft202012Validator
from query_server import QueryServer, start_server, stop_server
from query_traffic import NS, PROFILE_STACKS, Traffic, build, pprof_bytes

SPEC = yaml.safe_load((Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml").read_text())


@pytest.fixture(scope="module")
def loaded() -> Iterator[tuple[QueryServer, Traffic]]:
    traffic = build(time.time())
    server = start_server()
    try:
        for path, body in traffic.payloads:
            assert server.post(path, body) == 200
        for route in ("/login", "/verify"):
            query = urllib.parse.urlencode(
                {
                    "service": "auth",
                    "route": route,
                    "type": "cpu",
                    "time": traffic.base_ns + 60 * NS,
                }
            )
            body = pprof_bytes(PROFILE_STACKS, traffic.base_ns + 60 * NS)
            assert server.post("/v1/profiles?" + query, body, "application/octet-stream") == 200
        yield server, traffic
    finally:
        stop_server(server)


def response_schema(path: str, status: str, method: str = "get") -> dict[str, Any]:
    op = SPEC["paths"][path][method]["responses"][status]
    if "$ref" in op:
        op = SPEC["components"]["responses"][op["$ref"].rsplit("/", 1)[1]]
    return op["content"]["application/json"]["schema"]


def validate(path: str, status: str, body: Any, method: str = "get") -> None:
    # '#/components/...' references resolve against a root that carries the components.
    root = {"components": SPEC["components"], **response_schema(path, status, method)}
    errors = sorted(Draft202012Validator(root).iter_errors(body), key=str)
    assert not errors, f"{path} {status}: " + "; ".join(e.message for e in errors[:5])


def requests_for(t: Traffic) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    w = {"since": t.base_ns, "until": t.until_ns}
    trace_hex = next(tid for tid, spans in t.traces.items() if len(spans) > 2).hex()
    return {
        "/api/v1/services": [("/api/v1/services", w)],
        "/api/v1/services/{service}/endpoints": [("/api/v1/services/gateway/endpoints", w)],
        "/api/v1/timeseries": [
            ("/api/v1/timeseries", {**w, "service": "auth", "metric": m, "step": "1m"})
            for m in ("rps", "p95", "apdex", "cpu", "rss", "loop_lag_p99", "queue_depth")
        ],
        "/api/v1/traces": [("/api/v1/traces", {**w, "status": "error", "limit": 5})],
        "/api/v1/traces/{trace_id}": [(f"/api/v1/traces/{trace_hex}", {})],
        "/api/v1/logs": [("/api/v1/logs", {"service": "auth", "limit": 5})],
        "/api/v1/errors": [("/api/v1/errors", w)],
        "/api/v1/queries": [("/api/v1/queries", w)],
        "/api/v1/insights": [("/api/v1/insights", w)],
        "/api/v1/tasks": [("/api/v1/tasks", w)],
        "/api/v1/runtime": [("/api/v1/runtime", w)],
        "/api/v1/profiles": [("/api/v1/profiles", {**w, "service": "auth"})],
        "/api/v1/alerts/rules": [("/api/v1/alerts/rules", {})],
        "/api/v1/alerts/rules/{id}": [("/api/v1/alerts/rules/default-error-rate", {})],
        "/api/v1/alerts/events": [("/api/v1/alerts/events", {})],
    }


def test_every_spec_path_is_exercised(loaded: tuple[QueryServer, Traffic]) -> None:
    _, t = loaded
    assert set(requests_for(t)) == set(SPEC["paths"])


@pytest.mark.parametrize("spec_path", sorted(SPEC["paths"]))
def test_live_response_matches_schema(loaded: tuple[QueryServer, Traffic], spec_path: str) -> None:
    server, t = loaded
    for url, params in requests_for(t)[spec_path]:
        body = server.get(url, params)
        items = body.get("items", body.get("spans", body.get("logs", body.get("points"))))
        if items is None:
            items = body["tree"]["children"] if "tree" in body else [body]
        if spec_path != "/api/v1/alerts/events":  # no alert fires on this traffic
            assert items, f"{url} returned nothing to validate"
        validate(spec_path, "200", body)


@pytest.mark.parametrize(
    "spec_path", sorted(p for p in SPEC["paths"] if "{" not in p and "/alerts/" not in p)
)
def test_bad_request_matches_schema(loaded: tuple[QueryServer, Traffic], spec_path: str) -> None:
    server, _ = loaded
    special = {"/api/v1/timeseries": {"metric": "nope"}, "/api/v1/logs": {"trace_id": "xyz"}}
    params = special.get(spec_path, {"limit": "0"})
    body = server.get(spec_path, params, expect=400)
    validate(spec_path, "400", body)


def test_profile_tree_and_formats(loaded: tuple[QueryServer, Traffic]) -> None:
    server, t = loaded
    w = {"since": t.base_ns, "until": t.until_ns, "service": "auth"}
    body = server.get("/api/v1/profiles", w)
    total = sum(v for _, v in PROFILE_STACKS)
    assert body["uploads"] == 2
    tree = body["tree"]
    assert tree["total"] == 2 * total
    (main,) = tree["children"]
    assert main["name"] == "main app.py:1" and main["total"] == 2 * total
    handle = next(c for c in main["children"] if c["name"].startswith("handle"))
    assert handle["self"] == 2 * 100 and handle["total"] == 2 * 400
    one = server.get("/api/v1/profiles", {**w, "endpoint": "/login"})
    assert one["tree"]["total"] == total
    status, ctype, text = server.get_raw("/api/v1/profiles", {**w, "format": "collapsed"})
    assert status == 200 and ctype.startswith("text/plain")
    lines = dict(line.rsplit(" ", 1) for line in text.decode().splitlines())
    assert lines["main app.py:1;handle views.py:10;query db.py:5"] == str(2 * 300)
    status, ctype, raw = server.get_raw("/api/v1/profiles", {**w, "format": "pprof"})
    assert status == 200 and ctype == "application/vnd.google.protobuf"
    # The pprof round-trips through the server's own validating upload path.
    assert (
        server.post(
            f"/v1/profiles?service=roundtrip&type=cpu&time={t.base_ns + NS}",
            raw,
            "application/octet-stream",
        )
        == 200
    )
    again = server.get("/api/v1/profiles", {**w, "service": "roundtrip"})
    assert again["tree"]["total"] == 2 * total


def test_alert_rule_bodies_match_schema(loaded: tuple[QueryServer, Traffic]) -> None:
    server, _ = loaded
    path = "/api/v1/alerts/rules"
    for body, status in (
        ({"metric": "error_rate", "threshold": 0.1, "service": "auth"}, 201),
        ({"metric": "bogus"}, 400),
    ):
        req = urllib.request.Request(
            server.base + path,
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                got, answer = resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as err:
            got, answer = err.code, json.loads(err.read())
        assert got == status, answer
        validate(path, str(status), answer, "post")
