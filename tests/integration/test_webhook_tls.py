"""Alert webhooks over HTTPS: a real TLS receiver (http.server wrapped with ssl, a CA and a leaf
certificate made by the openssl CLI in the fixture) gets the payload when the server, started by
`pyrometer serve --webhook-ca-file`, trusts the CA; without it the certificate fails verification,
which is counted in /metrics, logged once per webhook (path redacted), and nothing is delivered.
"""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status
from query_server import QueryServer, server_binary, start_server, stop_server
from query_traffic import NS, kv, resource

SECRET_PATH = "/services/T000/B000/not-for-logs"
SENT = 'pyrometer_alert_webhook_notifications_total{result="sent"}'
FAILED = 'pyrometer_alert_webhook_notifications_total{result="failed"}'


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def certs() -> Iterator[Path]:
    """ca.pem (self-signed CA) and leaf.pem/leaf.key for 127.0.0.1, signed by that CA."""
    d = Path(tempfile.mkdtemp(prefix="pyrometer-tls-"))
    try:
        openssl(
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=pyrometer test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            cwd=d,
        )  # fmt: skip
        openssl(
            "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr",
            "-subj", "/CN=127.0.0.1",
            cwd=d,
        )  # fmt: skip
        (d / "leaf.ext").write_text(
            "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
            "basicConstraints=CA:FALSE\n"
            "extendedKeyUsage=serverAuth\n"
        )
        openssl(
            "x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-out", "leaf.pem", "-extfile", "leaf.ext",
            cwd=d,
        )  # fmt: skip
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


class TlsReceiver:
    """Collects JSON POSTs over HTTPS on a loopback port; counts failed TLS handshakes."""

    def __init__(self, cert: Path, key: Path) -> None:
        self.posts: list[tuple[str, dict[str, Any]]] = []
        self.tls_versions: list[str] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server API)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with outer.lock:
                    outer.posts.append((self.path, json.loads(body)))
                    outer.tls_versions.append(str(self.connection.version()))  # type: ignore
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that rejects our certificate is what one test expects

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(cert), str(key))
        self.httpd = Server(("127.0.0.1", 0), Handler)
        # The handshake runs in accept(); a failed one raises OSError there, which
        # socketserver drops, so the receiver keeps serving.
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def received(self) -> list[tuple[str, dict[str, Any]]]:
        with self.lock:
            return list(self.posts)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver(certs: Path) -> Iterator[TlsReceiver]:
    r = TlsReceiver(certs / "leaf.pem", certs / "leaf.key")
    try:
        yield r
    finally:
        r.close()


def rules_file(directory: Path, webhook: str, names: list[str]) -> Path:
    text = "rules:\n"
    for name in names:
        text += f"""  - name: "{name}"
    metric: error_rate
    service: shop
    threshold: 0.2
    window: 2m
    for: 0s
    severity: critical
    min_requests: 5
    webhook: {webhook}
"""
    path = directory / "rules.yaml"
    path.write_text(text)
    return path


def send_errors(server: QueryServer) -> None:
    now = time.time_ns() - NS
    spans = [
        Span(
            trace_id=(n + 1).to_bytes(16, "big"),
            span_id=(n + 1).to_bytes(8, "big"),
            name="GET /pay",
            kind=Span.SPAN_KIND_SERVER,
            start_time_unix_nano=now,
            end_time_unix_nano=now + NS // 10,
            attributes=[kv("http.route", "/pay"), kv("http.response.status_code", 500)],
            status=Status(code=2),
        )
        for n in range(10)
    ]
    req = ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource=resource("shop", "shop-1", "opentelemetry"),
                scope_spans=[ScopeSpans(spans=spans)],
            )
        ]
    )
    assert server.post("/v1/traces", req.SerializeToString()) == 200


def webhook_metrics(server: QueryServer) -> dict[str, float]:
    _, _, body = server.get_raw("/metrics")
    out: dict[str, float] = {}
    for line in body.decode().splitlines():
        if line.startswith("pyrometer_alert_webhook_"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def wait_for(what: str, check: Any, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def start_via_pyrometer_serve(args: list[str]) -> QueryServer:
    """`pyrometer serve ARGS` (which execs the server binary) on a free loopback port."""
    data = tempfile.mkdtemp(prefix="pyrometer-tls-serve-")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pyrometer", "serve", "--data", data, "--listen", "127.0.0.1:0",
         *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYROMETER_SERVER_BIN": server_binary()},
    )  # fmt: skip
    assert proc.stdout is not None
    first = proc.stdout.readline()
    if "listening on http://" not in first:
        proc.kill()
        shutil.rmtree(data, ignore_errors=True)
        raise RuntimeError(f"pyrometer serve did not start: {first}{proc.stdout.read()}")
    port = int(first.split("listening on ")[1].split()[0].rsplit(":", 1)[1])
    return QueryServer(base=f"http://127.0.0.1:{port}", port=port, data_dir=data, proc=proc)


def test_rule_fires_payload_arrives_over_verified_tls(certs: Path, receiver: TlsReceiver) -> None:
    rules = rules_file(certs, receiver.url + SECRET_PATH, ["shop errors"])
    server = start_via_pyrometer_serve(
        [
            "--webhook-ca-file", str(certs / "ca.pem"),
            "--", "--rules", str(rules), "--alert-interval", "200ms", "--no-default-alert-rules",
        ]
    )  # fmt: skip
    try:
        send_errors(server)
        (path, payload), *_ = wait_for("a webhook POST", receiver.received)
        assert path == SECRET_PATH
        assert payload["status"] == "firing" and payload["rule"] == "shop errors"
        assert payload["service"] == "shop" and payload["value"] == pytest.approx(1.0)
        assert receiver.tls_versions[0] in ("TLSv1.2", "TLSv1.3")
        m = wait_for(
            "the sent counter",
            lambda: (lambda m: m if m.get(SENT) == 1 else None)(webhook_metrics(server)),
        )
        assert m["pyrometer_alert_webhook_tls_verify_failures_total"] == 0
    finally:
        stop_server(server)


def test_untrusted_certificate_is_counted_logged_once_and_not_delivered(
    certs: Path, receiver: TlsReceiver
) -> None:
    # Two rules on one webhook: two notifications fail, the log names the webhook once.
    rules = rules_file(certs, receiver.url + SECRET_PATH, ["errors a", "errors b"])
    server = start_server(
        ["--rules", str(rules), "--alert-interval", "200ms", "--no-default-alert-rules"]
    )
    try:
        send_errors(server)
        # 4 attempts per notification (backoff 0.5 s, 1 s, 2 s), each failing verification.
        m = wait_for(
            "both notifications to give up",
            lambda: (lambda m: m if m.get(FAILED) == 2 else None)(webhook_metrics(server)),
        )
        assert m["pyrometer_alert_webhook_tls_verify_failures_total"] == 8
        assert m[SENT] == 0
        assert receiver.received() == []
    finally:
        stop_server(server)
    log = server.proc.stdout.read() if server.proc.stdout else ""
    lines = [ln for ln in log.splitlines() if "webhook" in ln and "failed after" in ln]
    assert len(lines) == 1, log
    assert f"{receiver.url}/…" in lines[0]
    assert "TLS certificate verification failed" in lines[0]
    assert "--webhook-ca-file" in lines[0]
    assert "not-for-logs" not in log


def test_bad_ca_file_fails_at_start(certs: Path) -> None:
    for bad, why in (
        (certs / "leaf.key", "no PEM certificate"),
        (certs / "nope.pem", "cannot read"),
    ):
        proc = subprocess.run(
            [server_binary(), "--data", str(certs / "data"), "--listen", "127.0.0.1:0",
             "--webhook-ca-file", str(bad)],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert proc.returncode == 2, proc
        assert "--webhook-ca-file" in proc.stderr and why in proc.stderr, proc.stderr
