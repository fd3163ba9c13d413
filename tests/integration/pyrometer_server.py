"""pyrometer-server as a pytest fixture: the real binary on a loopback port in a temp data dir.

Usage::

    def test_something(pyrometer_server):
        requests.post(pyrometer_server.url + "/v1/traces", data=body,
                      headers={"Content-Type": "application/x-protobuf"})
        pyrometer_server.kill9(); pyrometer_server.start()      # crash + recover
        pyrometer_server.restart()                              # SIGTERM (exit 0) + start

    def test_custom(pyrometer_server_factory):
        server = pyrometer_server_factory(args=["--max-body", "1MiB"], env={"PYROMETER_TOKEN": "t"})

The binary is ``importlib.resources.files("pyrometer") / "bin/pyrometer-server"`` (refresh it
with ``make build``); set ``PYROMETER_SERVER_BIN`` to test another build. The server listens on
port 0 the first time (no free-port race: the port is read from its "listening on" line) and
reuses that port on restart, so ``.url`` stays valid. Every server a fixture started is stopped
at teardown (SIGTERM, then SIGKILL after 10 s). Its stderr is kept in ``.log_path``.
"""

from __future__ import annotations

import importlib.resources
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Iterator, Mapping, Sequence

import pytest

_READY = re.compile(r"listening on http://(\S+):(\d+) ")
START_TIMEOUT_S = 15.0


def server_binary() -> Path:
    """Path of the pyrometer-server executable under test."""
    override = os.environ.get("PYROMETER_SERVER_BIN")
    if override:
        return Path(override)
    return Path(str(importlib.resources.files("pyrometer") / "bin/pyrometer-server"))


class PyrometerServer:
    """One pyrometer-server process (restartable) bound to a data directory."""

    def __init__(
        self,
        data_dir: Path,
        args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.data_dir = Path(data_dir)
        self.host = host
        self.port = 0
        self.args = list(args)
        self.env = dict(os.environ)
        self.env.update(env or {})
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}-server.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:41234 (valid once started)."""
        return f"http://{self.host}:{self.port}"

    def command(self) -> list[str]:
        return [
            str(server_binary()),
            "--data",
            str(self.data_dir),
            "--listen",
            f"{self.host}:{self.port}",
            *self.args,
        ]

    def start(self) -> None:
        """Starts the process and waits until /healthz answers; raises with its log if not."""
        assert self.process is None or self.process.poll() is not None, "already running"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        out_path = self.log_path.with_suffix(".out")
        with open(out_path, "wb") as out, open(self.log_path, "ab") as err:
            self.process = subprocess.Popen(self.command(), stdout=out, stderr=err, env=self.env)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            match = _READY.search(out_path.read_text(errors="replace"))
            if match:
                self.port = int(match.group(2))
                break
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"pyrometer-server exited with {self.process.returncode}: "
                    f"{self.log_path.read_text(errors='replace')}"
                )
            time.sleep(0.02)
        else:
            self.kill9()
            raise RuntimeError("pyrometer-server did not print its ready line in time")
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.02)
        self.kill9()
        raise RuntimeError("pyrometer-server did not answer /healthz in time")

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM and wait: drains requests, flushes the store. Returns the exit code."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def kill9(self) -> None:
        """SIGKILL: no shutdown code runs; what was acknowledged must survive in the WAL."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def restart(self) -> int:
        """Graceful stop then start on the same port and data dir; returns the stop's exit code."""
        code = self.stop()
        self.start()
        return code

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


@pytest.fixture
def pyrometer_server_factory(
    tmp_path: Path,
) -> Iterator[Callable[..., PyrometerServer]]:
    """Returns start(args=(), env=None, host="127.0.0.1", name="data") → a started server."""
    servers: list[PyrometerServer] = []

    def start(
        args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        host: str = "127.0.0.1",
        name: str = "data",
    ) -> PyrometerServer:
        server = PyrometerServer(tmp_path / name, args=args, env=env, host=host)
        servers.append(server)
        server.start()
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def pyrometer_server(
    pyrometer_server_factory: Callable[..., PyrometerServer],
) -> PyrometerServer:
    """A started pyrometer-server with default flags (fsync interval 5 ms)."""
    return pyrometer_server_factory()
