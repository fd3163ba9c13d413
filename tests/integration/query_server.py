"""A pyrometer-server on a free loopback port in a temp dir, for the query API tests.

The binary is $PYROMETER_SERVER_BIN, else the one the package ships (`make build`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Sequence

import pytest


def server_binary() -> str:
    env = os.environ.get("PYROMETER_SERVER_BIN")
    if env:
        return env
    from pyrometer.commands._server_bin import server_binary as packaged

    return packaged()


@dataclass
class QueryServer:
    """A running server: `base` is http://127.0.0.1:PORT."""

    base: str
    port: int
    data_dir: str
    proc: subprocess.Popen

    def post(self, path: str, body: bytes, content_type: str = "application/x-protobuf") -> int:
        req = urllib.request.Request(self.base + path, data=body, method="POST")
        req.add_header("Content-Type", content_type)
        with urllib.request.urlopen(req, timeout=30) as resp:
            resp.read()
            return int(resp.status)

    def get_raw(
        self, path: str, params: Mapping[str, Any] | Sequence[tuple[str, Any]] = ()
    ) -> tuple[int, str, bytes]:
        query = urllib.parse.urlencode(params)
        url = self.base + path + ("?" + query if query else "")
        try:
            with urllib.request.urlopen(url, timeout=60) as resp:
                return int(resp.status), resp.headers.get("Content-Type", ""), resp.read()
        except urllib.error.HTTPError as err:
            return int(err.code), err.headers.get("Content-Type", ""), err.read()

    def get(
        self,
        path: str,
        params: Mapping[str, Any] | Sequence[tuple[str, Any]] = (),
        expect: int = 200,
    ) -> Any:
        status, _, body = self.get_raw(path, params)
        assert status == expect, f"GET {path} {params} -> {status}: {body[:500]!r}"
        return json.loads(body)


def start_server(
    extra_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    listen: str = "127.0.0.1:0",
) -> QueryServer:
    data = tempfile.mkdtemp(prefix="pyrometer-query-")
    proc = subprocess.Popen(
        [server_binary(), "--data", data, "--listen", listen, "--threads", "2", *extra_args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    line = ""
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if "listening on http://" in line or not line:
            break
    if "listening on http://" not in line:
        proc.kill()
        rest = proc.stdout.read()
        shutil.rmtree(data, ignore_errors=True)
        raise RuntimeError(f"pyrometer-server did not start: {line}{rest}")
    url = line.split("listening on ")[1].split()[0]
    port = int(url.rsplit(":", 1)[1])
    return QueryServer(base=f"http://127.0.0.1:{port}", port=port, data_dir=data, proc=proc)


def stop_server(server: QueryServer) -> None:
    server.proc.terminate()
    try:
        server.proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait()
    shutil.rmtree(server.data_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def query_server() -> Iterator[QueryServer]:
    server = start_server()
    try:
        yield server
    finally:
        stop_server(server)
