"""The `pyrometer` command: help, version, run, serve, profile, doctor and demo, as subprocesses.

Servers are tiny stand-ins on free loopback ports (a fake pyrometer-server via
PYROMETER_SERVER_BIN, an http.server collector), so these tests need no built server.
"""

from __future__ import annotations

import http.server
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading

import pytest

PYROMETER = [sys.executable, "-m", "pyrometer"]
COMMANDS = ("serve", "run", "profile", "doctor", "demo")


def cli(*args: str, env: dict[str, str] | None = None, cwd: str | None = None, timeout: int = 30):
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [*PYROMETER, *args], env=full_env, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_help_lists_the_five_commands_with_descriptions():
    result = cli("--help")
    assert result.returncode == 0
    for command in COMMANDS:
        line = next(ln for ln in result.stdout.splitlines() if ln.strip().startswith(command + " "))
        assert len(line.split()) > 2, line  # the command and a description on the same line


def test_version():
    result = cli("--version")
    assert result.returncode == 0 and result.stdout.strip() == "pyrometer 0.1.0"


def test_profile_says_not_available_and_exits_2():
    result = cli("profile", "--mode", "cpu", "-o", "out.html", "--", "python", "x.py")
    assert result.returncode == 2
    assert "not available" in result.stderr and result.stdout == ""


def test_unknown_command_is_a_usage_error():
    assert cli("frobnicate").returncode == 2
    result = cli("doctor", "--", "x")
    assert result.returncode == 2 and "no arguments after `--`" in result.stderr


# --- run ---------------------------------------------------------------------------------------


def test_run_without_command_is_a_usage_error():
    assert cli("run").returncode == 2
    assert cli("run", "--").returncode == 2
    assert cli("run", sys.executable, "-c", "pass").returncode == 2  # no `--`


def test_run_missing_command_exits_127():
    result = cli("run", "--", "pyrometer-no-such-command-xyz")
    assert result.returncode == 127
    assert "command not found: pyrometer-no-such-command-xyz" in result.stderr


def test_run_passes_exit_code_output_and_environment(tmp_path):
    script = (
        "import os, sys; print('out', os.environ['PYROMETER_BOOTSTRAP'], os.environ['PYTHONPATH']);"
        "print('err', file=sys.stderr); sys.exit(3)"
    )
    result = cli("run", "--", sys.executable, "-c", script, env={"PYTHONPATH": str(tmp_path)})
    assert result.returncode == 3
    assert result.stderr == "err\n"
    word, marker, pythonpath = result.stdout.split()
    assert (word, marker) == ("out", "1")
    first, rest = pythonpath.split(os.pathsep, 1)
    assert first.endswith(os.path.join("pyrometer", "bootstrap")) and rest == str(tmp_path)


def test_run_service_flag_and_path_lookup(tmp_path):
    result = cli(
        "run", "--service", "billing", "--", "env", env={"PATH": "/usr/bin:/bin", "PYTHONPATH": ""}
    )
    assert result.returncode == 0
    env = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    assert env["PYROMETER_SERVICE"] == "billing"
    assert env["PYTHONPATH"].endswith(os.path.join("pyrometer", "bootstrap"))  # no stray ':'
    assert env["PYROMETER_DEFAULT_SERVICE"] == "env"


# --- serve -------------------------------------------------------------------------------------


def fake_server(tmp_path, body: str) -> str:
    path = tmp_path / "fake-server"
    path.write_text(f"#!{sys.executable}\n" + textwrap.dedent(body))
    path.chmod(0o755)
    return str(path)


def test_serve_execs_the_binary_with_flags_and_passthrough(tmp_path):
    binary = fake_server(tmp_path, "import sys; print(repr(sys.argv)); sys.exit(7)\n")
    result = cli(
        "serve", "--data", "d", "--listen", "127.0.0.1:9", "--max-disk", "1GB",
        "--", "--threads", "2",
        env={"PYROMETER_SERVER_BIN": binary},
    )  # fmt: skip
    assert result.returncode == 7  # exec: the server's exit code is ours
    argv = eval(result.stdout)  # noqa: S307 - our own fake's repr
    assert argv[1:] == ["--data", "d", "--listen", "127.0.0.1:9", "--max-disk", "1GB",
                        "--threads", "2"]  # fmt: skip


def test_serve_missing_binary_is_a_clear_error(tmp_path):
    result = cli("serve", env={"PYROMETER_SERVER_BIN": str(tmp_path / "nope")})
    assert result.returncode == 1
    assert "server binary not found" in result.stderr and "nope" in result.stderr


# --- doctor ------------------------------------------------------------------------------------


class _Collector(http.server.BaseHTTPRequestHandler):
    requests: list[tuple[str, str, bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        _Collector.requests.append((self.path, self.headers.get("Content-Type"), body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def collector():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Collector.requests.clear()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_doctor_reports_sources_and_collector_down(tmp_path):
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{free_port()}",
        "PYROMETER_SERVICE": "checkout",
        "PYROMETER_EXPORT_INTERVAL": "often",
        "PYROMETER_TOKEN": "top-secret",
    }
    result = cli("doctor", env=env, cwd=str(tmp_path))
    assert result.returncode == 1
    out = result.stdout
    assert "checkout  <- env PYROMETER_SERVICE" in out
    assert "5.0  <- default" in out
    assert "WARNING: pyrometer: invalid PYROMETER_EXPORT_INTERVAL='often'" in out
    assert "top-secret" not in out
    assert "Collector: FAILED" in out
    assert "CPython" in out and "_native" in out and "Integrations" in out


def test_doctor_ok_against_a_collector(tmp_path, collector):
    result = cli("doctor", env={"OTEL_EXPORTER_OTLP_ENDPOINT": collector}, cwd=str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Collector: OK" in result.stdout
    assert _Collector.requests == [("/v1/traces", "application/x-protobuf", b"")]


# --- demo --------------------------------------------------------------------------------------

FAKE_HEALTHY_SERVER = """
import http.server, signal, sys
args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
host, port = args["--listen"].rsplit(":", 1)
open(args["--data"] + "/argv", "w").write(" ".join(sys.argv[1:]))
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/healthz" else 404); self.end_headers()
    def log_message(self, *a): pass
srv = http.server.HTTPServer((host, int(port)), H)
def stop(*a):
    open(args["--data"] + "/stopped", "w").write("SIGTERM")
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
srv.serve_forever()
"""


def test_demo_starts_server_prints_ui_and_stops_it_on_sigterm(tmp_path):
    binary = fake_server(tmp_path, FAKE_HEALTHY_SERVER)
    port, data = free_port(), tmp_path / "data"
    env = {**os.environ, "PYROMETER_SERVER_BIN": binary}
    proc = subprocess.Popen(
        [*PYROMETER, "demo", "--listen", f"127.0.0.1:{port}", "--data", str(data)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = proc.stdout.readline()
        assert line.strip() == f"Pyrometer UI: http://127.0.0.1:{port}/"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert (data / "stopped").read_text() == "SIGTERM"
    assert (data / "argv").read_text() == f"--data {data} --listen 127.0.0.1:{port}"


def test_demo_prints_server_stderr_when_it_fails(tmp_path):
    binary = fake_server(
        tmp_path, "import sys; sys.stderr.write('boom: port busy\\n'); sys.exit(4)\n"
    )
    result = cli(
        "demo", "--listen", f"127.0.0.1:{free_port()}", "--data", str(tmp_path / "d"),
        env={"PYROMETER_SERVER_BIN": binary},
    )  # fmt: skip
    assert result.returncode == 4
    assert "boom: port busy" in result.stderr


def test_packaged_server_binary_is_found(monkeypatch):
    from pyrometer.commands._server_bin import server_binary

    monkeypatch.delenv("PYROMETER_SERVER_BIN", raising=False)
    path = server_binary()
    assert path.endswith(os.path.join("pyrometer", "bin", "pyrometer-server"))
    assert os.access(path, os.X_OK)


def test_run_warns_when_the_interpreter_cannot_import_pyrometer():
    # The venv's base interpreter does not see the venv's site-packages, hence not pyrometer.
    base = os.path.join(sys.base_prefix, "bin", "python3")
    assert sys.prefix != sys.base_prefix, "the tests run in a virtual environment"
    result = cli("run", "--", base, "-c", "print('ran')")
    assert result.returncode == 0 and result.stdout == "ran\n"
    assert "cannot import pyrometer" in result.stderr
    quiet = cli("run", "--", sys.executable, "-c", "print('ran')")
    assert quiet.stderr == ""
