"""pyrometer-server fails fast on bad flags and unsafe listens, and enforces the bearer token."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Callable

import requests
from pyrometer_server import PyrometerServer, server_binary


def run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(server_binary()), *args], capture_output=True, text=True, timeout=30, env=env
    )


def test_help_and_version() -> None:
    assert "--listen HOST:PORT" in run(["--help"]).stdout
    version = run(["--version"])
    assert version.returncode == 0 and version.stdout.startswith("pyrometer-server ")


def test_bad_flag_values_exit_2_naming_the_flag(tmp_path: Path) -> None:
    for args, flag in [
        (["--retention", "forever"], "--retention"),
        (["--max-disk", "lots"], "--max-disk"),
        (["--listen", "127.0.0.1"], "--listen"),
        (["--threads", "-1"], "--threads"),
        (["--no-such-flag"], "--no-such-flag"),
    ]:
        result = run(["--data", str(tmp_path), *args])
        assert result.returncode == 2, args
        assert flag in result.stderr


def test_clickhouse_storage_is_not_supported_yet(tmp_path: Path) -> None:
    result = run(["--data", str(tmp_path), "--storage", "clickhouse://127.0.0.1:9000/db"])
    assert result.returncode == 2
    assert "not supported yet" in result.stderr


def test_non_loopback_listen_without_token_refuses_to_start(tmp_path: Path) -> None:
    env = {k: v for k, v in __import__("os").environ.items() if k != "PYROMETER_TOKEN"}
    result = run(["--data", str(tmp_path), "--listen", "0.0.0.0:0"], env=env)
    assert result.returncode == 2
    assert "PYROMETER_TOKEN" in result.stderr


def test_port_in_use_fails_with_clear_message(
    pyrometer_server: PyrometerServer,
    tmp_path: Path,
) -> None:
    result = run(
        ["--data", str(tmp_path / "other"), "--listen", f"127.0.0.1:{pyrometer_server.port}"]
    )
    assert result.returncode != 0
    assert f"cannot listen on 127.0.0.1:{pyrometer_server.port}" in result.stderr


def test_token_is_required_on_every_route_but_healthz(
    pyrometer_server_factory: Callable[..., PyrometerServer],
) -> None:
    server = pyrometer_server_factory(env={"PYROMETER_TOKEN": "s3cret-token"})
    body = b""  # an empty ExportTraceServiceRequest is valid protobuf
    headers = {"Content-Type": "application/x-protobuf"}
    assert requests.get(server.url + "/healthz", timeout=5).status_code == 200
    assert (
        requests.post(server.url + "/v1/traces", data=body, headers=headers, timeout=5).status_code
        == 401
    )
    wrong = {**headers, "Authorization": "Bearer nope"}
    assert (
        requests.post(server.url + "/v1/traces", data=body, headers=wrong, timeout=5).status_code
        == 401
    )
    assert requests.get(server.url + "/metrics", timeout=5).status_code == 401
    right = {**headers, "Authorization": "Bearer s3cret-token"}
    assert (
        requests.post(server.url + "/v1/traces", data=body, headers=right, timeout=5).status_code
        == 200
    )
    assert requests.get(server.url + "/metrics", headers=right, timeout=5).status_code == 200
