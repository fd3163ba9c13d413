"""Alert rules end to end: errors injected into a real server drive a rule ok → pending → firing,
webhook receivers in the test get generic and Slack-compatible payloads, recovery resolves it.

Rules come from a `--rules` YAML file and from the CRUD API; the server evaluates every 200 ms.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status
from query_server import QueryServer, server_binary, start_server, stop_server
from query_traffic import NS, kv, resource


class Receiver:
    """Collects JSON POSTs per path on a loopback port."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, Any]]] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server API)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with outer.lock:
                    outer.posts.append((self.path, json.loads(body)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def received(self, path: str) -> list[dict[str, Any]]:
        with self.lock:
            return [b for p, b in self.posts if p == path]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    try:
        yield r
    finally:
        r.close()


@pytest.fixture
def alerting(receiver: Receiver) -> Iterator[QueryServer]:
    d = tempfile.mkdtemp(prefix="pyrometer-rules-")
    rules = Path(d) / "rules.yaml"
    rules.write_text(f"""# loaded at start
rules:
  - name: "shop errors (slack)"
    metric: error_rate
    service: shop
    threshold: 0.2
    window: 2m
    for: 1s
    severity: critical
    min_requests: 5
    webhook: {receiver.url}/slack
    webhook_format: slack
""")
    server = start_server(
        ["--rules", str(rules), "--alert-interval", "200ms", "--no-default-alert-rules"]
    )
    try:
        yield server
    finally:
        stop_server(server)


def send(server: QueryServer, ok: int, errors: int, first_id: int) -> None:
    now = time.time_ns() - NS
    spans = []
    for i in range(ok + errors):
        n = first_id + i
        failed = i < errors
        spans.append(
            Span(
                trace_id=n.to_bytes(16, "big"),
                span_id=n.to_bytes(8, "big"),
                name="GET /pay",
                kind=Span.SPAN_KIND_SERVER,
                start_time_unix_nano=now,
                end_time_unix_nano=now + NS // 10,
                attributes=[
                    kv("http.route", "/pay"),
                    kv("http.response.status_code", 500 if failed else 200),
                ],
                status=Status(code=2 if failed else 0),
            )
        )
    req = ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource=resource("shop", "shop-1", "opentelemetry"),
                scope_spans=[ScopeSpans(spans=spans)],
            )
        ]
    )
    assert server.post("/v1/traces", req.SerializeToString()) == 200


def request(server: QueryServer, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(server.base + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def wait_events(server: QueryServer, rule_id: str, states: list[str]) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 30
    got: list[str] = []
    while time.monotonic() < deadline:
        items = server.get("/api/v1/alerts/events")["items"]
        mine = [e for e in items if e["rule_id"] == rule_id]
        got = [e["state"] for e in mine]
        if got[: len(states)] == states:
            return mine
        time.sleep(0.1)
    raise AssertionError(f"rule {rule_id}: events {got}, want {states}")


def wait_posts(receiver: Receiver, path: str, n: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(receiver.received(path)) < n:
        time.sleep(0.1)
    return receiver.received(path)


def test_errors_fire_then_resolve_with_webhooks(alerting: QueryServer, receiver: Receiver) -> None:
    server = alerting
    rules = server.get("/api/v1/alerts/rules")["items"]
    assert [r["name"] for r in rules] == ["shop errors (slack)"]  # defaults disabled
    slack_id = rules[0]["id"]
    status, rule = request(
        server,
        "POST",
        "/api/v1/alerts/rules",
        {
            "name": "shop errors",
            "metric": "error_rate",
            "service": "shop",
            "threshold": 0.2,
            "window": "2m",
            "for": "1s",
            "severity": "high",
            "min_requests": 5,
            "webhook": receiver.url + "/generic",
        },
    )
    assert status == 201, rule
    assert rule["for_seconds"] == 1 and rule["window_seconds"] == 120

    send(server, ok=5, errors=5, first_id=1)  # 50% errors
    events = wait_events(server, rule["id"], ["pending", "firing"])
    assert events[1]["value"] == pytest.approx(0.5) and events[1]["service"] == "shop"
    wait_events(server, slack_id, ["pending", "firing"])
    active = server.get("/api/v1/alerts/events")["active"]
    assert {(a["rule_id"], a["state"]) for a in active} == {
        (rule["id"], "firing"),
        (slack_id, "firing"),
    }
    (fired,) = wait_posts(receiver, "/generic", 1)
    assert fired["status"] == "firing" and fired["rule"] == "shop errors"
    assert fired["service"] == "shop" and fired["severity"] == "high"
    assert fired["value"] == pytest.approx(0.5) and fired["threshold"] == 0.2
    (slack,) = wait_posts(receiver, "/slack", 1)
    assert "FIRING" in slack["text"] and "shop errors (slack)" in slack["text"]
    assert slack["attachments"][0]["color"] == "danger"

    send(server, ok=200, errors=0, first_id=100)  # 5 / 210 errors: recovered
    events = wait_events(server, rule["id"], ["pending", "firing", "resolved"])
    assert events[2]["value"] == pytest.approx(5 / 210)
    posts = wait_posts(receiver, "/generic", 2)
    assert [p["status"] for p in posts] == ["firing", "resolved"]
    slack_posts = wait_posts(receiver, "/slack", 2)
    assert "RESOLVED" in slack_posts[1]["text"]
    assert server.get("/api/v1/alerts/events")["active"] == []


def test_rule_crud_and_validation(alerting: QueryServer) -> None:
    server = alerting
    status, rule = request(
        server,
        "POST",
        "/api/v1/alerts/rules",
        {"metric": "p95_ms", "threshold": 800, "endpoint": "/pay"},
    )
    assert status == 201 and rule["name"].startswith("p95_ms >")
    status, got = request(server, "GET", f"/api/v1/alerts/rules/{rule['id']}")
    assert status == 200 and got == rule
    status, got = request(
        server,
        "PUT",
        f"/api/v1/alerts/rules/{rule['id']}",
        {"metric": "p95_ms", "threshold": 900, "op": ">"},
    )
    assert status == 200 and got["threshold"] == 900 and got["id"] == rule["id"]
    status, _ = request(server, "DELETE", f"/api/v1/alerts/rules/{rule['id']}")
    assert status == 204
    status, err = request(server, "GET", f"/api/v1/alerts/rules/{rule['id']}")
    assert status == 404 and "no rule" in err["error"]
    for bad, message in (
        ({"metric": "nope"}, "metric"),
        ({"threshold": 1}, "metric is required"),
        ({"metric": "rps", "window": "soon"}, "window"),
        ({"metric": "rps", "webhook": "ftp://x"}, "https://"),
    ):
        status, err = request(server, "POST", "/api/v1/alerts/rules", bad)
        assert status == 400 and message in err["error"], (bad, err)


def test_default_rules_ship_enabled() -> None:
    server = start_server()
    try:
        ids = {r["id"]: r for r in server.get("/api/v1/alerts/rules")["items"]}
    finally:
        stop_server(server)
    assert set(ids) == {
        "default-error-rate",
        "default-p95-baseline",
        "default-new-insight",
        "default-memory-growth",
        "default-agent-dropping",
    }
    assert ids["default-error-rate"]["threshold"] == 0.05
    assert ids["default-error-rate"]["for_seconds"] == 300
    assert ids["default-p95-baseline"]["threshold"] == 2
    assert ids["default-memory-growth"]["threshold"] == 0.2
    assert all(r["enabled"] for r in ids.values())


def test_bad_rules_file_fails_at_start(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - metric: error_rate\n    threshold: lots\n")
    proc = subprocess.run(
        [
            server_binary(),
            "--data",
            str(tmp_path / "d"),
            "--listen",
            "127.0.0.1:0",
            "--rules",
            str(rules),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert "threshold" in proc.stderr and "lots" in proc.stderr
