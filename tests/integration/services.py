"""Real services for integration tests: PostgreSQL, redis-server and app servers in subprocesses.

Each starts on a free loopback port in a temp dir and always stops (see /work/shared/RECIPES.md).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Iterator, Mapping, Sequence

import pytest

REPO = Path(__file__).resolve().parents[2]
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def until_workers_answer(
    get_pid: Callable[[int], int], workers: int, *, at_least: int = 1, timeout: float = 60.0
) -> tuple[set[int], int]:
    """Sends requests until `workers` distinct pids have answered and at least `at_least` were
    sent, or `timeout` passed; returns (pids, requests sent). `get_pid(n)` makes the n-th request
    (from 1) and returns the pid that answered. Bounded by time, not by a request count: on a
    loaded machine a spawned worker can finish booting seconds after the first one listens. After
    a first burst it paces itself, so a slow boot does not flood the exporter's queue."""
    pids: set[int] = set()
    sent = 0
    deadline = time.monotonic() + timeout
    while (len(pids) < workers or sent < at_least) and time.monotonic() < deadline:
        sent += 1
        pids.add(get_pid(sent))
        if len(pids) < workers and sent >= 20:
            time.sleep(0.05)
    return pids, sent


def wait_port(port: int, proc: subprocess.Popen | None = None, timeout: float = 30.0) -> None:
    """Block until 127.0.0.1:port accepts connections; raise with the process output if it died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            out = proc.stdout.read() if proc.stdout else "(see its log)"
            raise RuntimeError(f"process exited with {proc.returncode} before listening:\n{out}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


@dataclass
class Postgres:
    port: int
    user: str = "postgres"
    dbname: str = "postgres"

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user={self.user} dbname={self.dbname}"

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{self.dbname}"


@contextlib.contextmanager
def postgres_service() -> Iterator[Postgres]:
    """initdb + pg_ctl as the `postgres` user (PostgreSQL refuses to run as root)."""
    d = Path(tempfile.mkdtemp(prefix="pyrometer-pg-"))
    shutil.chown(d, "postgres")
    port = free_port()
    as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run(
        [*as_pg, str(PG_BIN / "initdb"), "-D", str(d / "data"), "-A", "trust", "-U", "postgres"],
        check=True,
        capture_output=True,
    )
    opts = f"-p {port} -k {d} -c listen_addresses=127.0.0.1 -c fsync=off"
    ctl = [*as_pg, str(PG_BIN / "pg_ctl"), "-D", str(d / "data")]
    subprocess.run(
        [*ctl, "-l", str(d / "log"), "-w", "start", "-o", opts], check=True, capture_output=True
    )
    try:
        yield Postgres(port)
    finally:
        subprocess.run([*ctl, "-m", "fast", "-w", "stop"], capture_output=True)
        shutil.rmtree(d, ignore_errors=True)


@dataclass
class Redis:
    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


@contextlib.contextmanager
def redis_service() -> Iterator[Redis]:
    d = Path(tempfile.mkdtemp(prefix="pyrometer-redis-"))
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(d),
         "--save", "", "--appendonly", "no"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        wait_port(port, proc)
        yield Redis(port)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(d, ignore_errors=True)


class AppProcess:
    """A server command (gunicorn, uvicorn, ...) in a subprocess, stopped on exit."""

    def __init__(
        self, argv: Sequence[str], port: int, env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
    ) -> None:  # fmt: skip
        self.port = port
        full_env = dict(os.environ)
        full_env.update(env or {})
        # A file, not a pipe: a chatty server must never block on a pipe nobody reads.
        self._log = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(
            list(argv), env=full_env, cwd=cwd, stdout=self._log, stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip
        self.output = ""
        try:
            wait_port(port, self.proc)
        except BaseException as exc:
            self.stop()
            raise RuntimeError(f"{argv[0]} did not start: {exc}\n{self.output}") from exc

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, sig_timeout: float = 15.0) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(sig_timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self._log.closed:
            self._log.seek(0)
            self.output = self._log.read()
            self._log.close()
        return int(self.proc.returncode)


def venv_bin(name: str) -> str:
    """A console script of the interpreter running the tests (gunicorn, uvicorn, celery)."""
    return str(Path(sys.executable).parent / name)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    with postgres_service() as pg:
        yield pg


@pytest.fixture(scope="session")
def redis_server() -> Iterator[Redis]:
    with redis_service() as r:
        yield r


class _EchoHandler(BaseHTTPRequestHandler):
    """GET /status/<code> answers that code; any path answers JSON with the request's headers."""

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        if self.path.startswith("/status/"):
            code = int(self.path.rsplit("/", 1)[1])
        elif self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", "/echo")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        else:
            code = 200
        echo: dict[str, object] = {"path": self.path}
        if code == 200:
            echo["headers"] = {k.lower(): v for k, v in self.headers.items()}
        body = json.dumps(echo)
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_POST = do_GET

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass  # keep test output clean


@contextlib.contextmanager
def echo_service() -> Iterator[str]:
    """A loopback HTTP server echoing request headers; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.fixture(scope="session")
def echo_server() -> Iterator[str]:
    with echo_service() as base:
        yield base
