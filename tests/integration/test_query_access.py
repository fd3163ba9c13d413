"""Access control of the query API: a bearer token (PYROMETER_TOKEN) guards API and ingest,
a non-loopback listen address requires one, /healthz stays open.

The token compare is http::constant_time_equal (native/server/http/router.cc); timing is not
asserted here (no timed assertions in tests), only the answers.
"""

from __future__ import annotations

import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest
from query_server import QueryServer, server_binary, start_server, stop_server

TOKEN = "s3cr3t-token-for-tests"


def status_of(url: str, token: str | None = None, body: bytes | None = None) -> int:
    req = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET")
    if token is not None:
        req.add_header("Authorization", f"Bearer {token}")
    if body is not None:
        req.add_header("Content-Type", "application/x-protobuf")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


@pytest.fixture(scope="module")
def public_server() -> Iterator[QueryServer]:
    # All interfaces, but the test only ever connects to 127.0.0.1.
    server = start_server(env={"PYROMETER_TOKEN": TOKEN}, listen="0.0.0.0:0")
    try:
        yield server
    finally:
        stop_server(server)


@pytest.mark.parametrize(
    "path", ["/api/v1/services", "/api/v1/traces", "/api/v1/alerts/rules", "/metrics"]
)
def test_token_required_for_api(public_server: QueryServer, path: str) -> None:
    url = public_server.base + path
    assert status_of(url) == 401
    assert status_of(url, "wrong") == 401
    assert status_of(url, TOKEN[:-1]) == 401  # a prefix of the token is not the token
    assert status_of(url, TOKEN + "x") == 401
    assert status_of(url, TOKEN) == 200


def test_token_required_for_ingest(public_server: QueryServer) -> None:
    url = public_server.base + "/v1/traces"
    assert status_of(url, body=b"") == 401
    assert status_of(url, TOKEN, body=b"") == 200  # an empty export request is valid


def test_healthz_is_open(public_server: QueryServer) -> None:
    assert status_of(public_server.base + "/healthz") == 200


def test_public_listen_without_token_refuses_to_start(tmp_path: Path) -> None:
    proc = subprocess.run(
        [server_binary(), "--data", str(tmp_path), "--listen", "0.0.0.0:0"],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 2
    assert "PYROMETER_TOKEN" in proc.stderr
