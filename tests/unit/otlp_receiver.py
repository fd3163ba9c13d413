"""A real OTLP/HTTP receiver on 127.0.0.1 for tests: decodes with the official opentelemetry-proto.

Reusable fixture: import ``otlp_receiver_fixture`` into a test module or conftest and request
``otlp_receiver``. It records every
request (path, headers, raw body, decoded message) and answers 200 with an empty
Export*ServiceResponse, unless told otherwise with :meth:`OtlpReceiver.script` (429/503 with
Retry-After, 400, partial_success). :meth:`stop` and :meth:`start` on the same port simulate a
collector going down and coming back. From tests/integration or tests/e2e, put tests/unit on
``sys.path`` first (see tests/e2e/test_agent_e2e.py).
"""

from __future__ import annotations

import gzip
import http.server
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import pytest
from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

_KINDS: dict[str, tuple[type[Message], type[Message]]] = {
    "/v1/traces": (ExportTraceServiceRequest, ExportTraceServiceResponse),
    "/v1/metrics": (ExportMetricsServiceRequest, ExportMetricsServiceResponse),
    "/v1/logs": (ExportLogsServiceRequest, ExportLogsServiceResponse),
}


@dataclass
class Received:
    """One request as the receiver saw it."""

    path: str
    headers: dict[str, str]
    raw: bytes  # the body after gzip decoding
    message: Message | None  # decoded Export*ServiceRequest, None if undecodable
    status: int  # what the receiver answered
    at: float = field(default_factory=time.monotonic)


@dataclass
class _Scripted:
    status: int
    retry_after: str | None
    rejected: int
    message: str
    path: str | None = None


def any_value(v: Any) -> Any:
    """An OTLP AnyValue as a plain Python value (bytes stay bytes; kvlists become dicts)."""
    kind = v.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value(x) for x in v.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in v.kvlist_value.values}
    return getattr(v, kind)


def attrs(kvs: Any) -> dict[str, Any]:
    """OTLP KeyValue list → dict."""
    return {kv.key: any_value(kv.value) for kv in kvs}


class OtlpReceiver:
    """A threaded OTLP/HTTP (protobuf, optional gzip) receiver on a free loopback port."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self._script: list[_Scripted] = []
        self._lock = threading.RLock()  # wait_for predicates read under it
        self._cond = threading.Condition(self._lock)
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # ---- lifecycle -----------------------------------------------------------------------

    def start(self, port: int = 0) -> OtlpReceiver:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the agent expects

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server API)
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                if self.headers.get("Content-Encoding", "") == "gzip":
                    body = gzip.decompress(body)
                receiver._handle(self, body)

        server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", port), Handler, bind_and_activate=False
        )
        server.daemon_threads = True
        server.allow_reuse_address = True
        server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.server_bind()
        server.server_activate()
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stops listening and closes the listening socket (clients then get ECONNREFUSED)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.endpoint + path

    # ---- scripting ----------------------------------------------------------------------

    def script(
        self,
        status: int,
        *,
        times: int = 1,
        retry_after: str | None = None,
        rejected: int = 0,
        message: str = "",
        path: str | None = None,
    ) -> None:
        """The next `times` requests (to `path`, or to any path) get this answer, then 200s."""
        with self._lock:
            for _ in range(times):
                self._script.append(_Scripted(status, retry_after, rejected, message, path))

    def _handle(self, handler: http.server.BaseHTTPRequestHandler, body: bytes) -> None:
        path = handler.path
        kinds = _KINDS.get(path)
        scripted = _Scripted(200, None, 0, "")
        with self._lock:
            for i, entry in enumerate(self._script):
                if entry.path is None or entry.path == path:
                    scripted = self._script.pop(i)
                    break
        message: Message | None = None
        status = scripted.status
        if kinds is None:
            status = 404
        else:
            try:
                message = kinds[0].FromString(body)
            except Exception:  # a decode failure is what the tests look for
                status = 400
        payload = b""
        if status == 200 and kinds is not None:
            resp = kinds[1]()
            if scripted.rejected or scripted.message:
                resp.partial_success.error_message = scripted.message
                field_name = {
                    "/v1/traces": "rejected_spans",
                    "/v1/metrics": "rejected_data_points",
                    "/v1/logs": "rejected_log_records",
                }[path]
                setattr(resp.partial_success, field_name, scripted.rejected)
            payload = resp.SerializeToString()
        # Recorded before answering: a client that saw the answer finds its request here.
        with self._cond:
            self.requests.append(
                Received(
                    path, {k.lower(): v for k, v in handler.headers.items()}, body, message, status
                )
            )
            self._cond.notify_all()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/x-protobuf")
        handler.send_header("Content-Length", str(len(payload)))
        if scripted.retry_after is not None:
            handler.send_header("Retry-After", scripted.retry_after)
        handler.end_headers()
        handler.wfile.write(payload)

    # ---- reading what arrived ------------------------------------------------------------

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 20.0) -> bool:
        """Waits until predicate() is true (re-checked on every request); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if predicate():
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.2))

    def accepted(self, path: str) -> list[Message]:
        with self._lock:
            return [
                r.message
                for r in self.requests
                if r.path == path and r.status == 200 and r.message is not None
            ]

    def spans(self) -> list[tuple[dict[str, Any], Any]]:
        """(resource attributes, Span) for every span accepted so far."""
        out = []
        for req in self.accepted("/v1/traces"):
            for rs in req.resource_spans:
                res = attrs(rs.resource.attributes)
                for ss in rs.scope_spans:
                    out.extend((res, s) for s in ss.spans)
        return out

    def metrics(self) -> list[tuple[dict[str, Any], Any]]:
        """(resource attributes, Metric) for every metric accepted so far."""
        out = []
        for req in self.accepted("/v1/metrics"):
            for rm in req.resource_metrics:
                res = attrs(rm.resource.attributes)
                for sm in rm.scope_metrics:
                    out.extend((res, m) for m in sm.metrics)
        return out

    def metric_points(self, name: str) -> list[tuple[dict[str, Any], Any, Any]]:
        """(resource attributes, Metric, data point) for every point of metric `name`."""
        out = []
        for res, m in self.metrics():
            if m.name != name:
                continue
            kind = m.WhichOneof("data")
            for p in getattr(m, kind).data_points:
                out.append((res, m, p))
        return out

    def logs(self) -> list[tuple[dict[str, Any], Any]]:
        out = []
        for req in self.accepted("/v1/logs"):
            for rl in req.resource_logs:
                res = attrs(rl.resource.attributes)
                for sl in rl.scope_logs:
                    out.extend((res, r) for r in sl.log_records)
        return out


@pytest.fixture(name="otlp_receiver")
def otlp_receiver_fixture() -> Iterator[OtlpReceiver]:
    """Import ``otlp_receiver_fixture`` into a test module; request it as ``otlp_receiver``."""
    receiver = OtlpReceiver().start()
    try:
        yield receiver
    finally:
        receiver.stop()


# The same fixture under its request name, for `from otlp_receiver import otlp_receiver`.
otlp_receiver = otlp_receiver_fixture
