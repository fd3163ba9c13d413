"""`pyrometer run -- CMD ARGS...`: execs CMD with Pyrometer's sitecustomize first on PYTHONPATH.

Every Python process CMD starts (workers, spawned children) inherits the environment and so runs
the bootstrap. CMD replaces this process, so its exit code, signals and output are the user's own.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys

from pyrometer.config import default_service_name

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOOTSTRAP_DIR = os.path.join(_PACKAGE_DIR, "bootstrap")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="run a command with auto-instrumentation",
        description="Run CMD with every Python process it starts auto-instrumented.",
        usage="pyrometer run [--service NAME] -- CMD [ARGS...]",
    )
    p.add_argument("--service", metavar="NAME", help="service name (sets PYROMETER_SERVICE)")
    p.set_defaults(handler=main)


def child_env(environ: dict[str, str], command: list[str], service: str | None) -> dict[str, str]:
    """The environment CMD runs with: bootstrap dir prepended to PYTHONPATH (once), markers set."""
    env = dict(environ)
    entries = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    if BOOTSTRAP_DIR not in entries:
        entries.insert(0, BOOTSTRAP_DIR)
    env["PYTHONPATH"] = os.pathsep.join(entries)
    env["PYROMETER_BOOTSTRAP"] = "1"
    if service:
        env["PYROMETER_SERVICE"] = service
    # Spawned workers (uvicorn --workers, multiprocessing spawn) have a different argv; give them
    # the name derived from the command the user typed so one service does not split in two.
    env.setdefault("PYROMETER_DEFAULT_SERVICE", default_service_name(command))
    return env


def resolve(program: str, path: str | None) -> str | None:
    """CMD as execve needs it: a path with a slash is used as is, otherwise looked up in PATH."""
    if os.sep in program:
        return program if os.path.isfile(program) else None
    return shutil.which(program, path=path)


def warn_if_uninstrumentable(executable: str, env: dict[str, str]) -> None:
    """CMD is another Python interpreter: say so if it cannot import pyrometer, because its
    processes would otherwise run uninstrumented without a word (e.g. a system `python` on PATH
    while Pyrometer lives in a virtual environment)."""
    # Compare paths, not real paths: a venv's python is a symlink to its base interpreter.
    same = os.path.abspath(executable) == os.path.abspath(sys.executable)
    if same or not os.path.basename(executable).startswith("python"):
        return
    probe = "import importlib.util, sys; sys.exit(importlib.util.find_spec('pyrometer') is None)"
    quiet = {**env, "PYROMETER_ENABLED": "false"}  # the probe itself must not start an agent
    try:
        found = subprocess.run([executable, "-c", probe], env=quiet, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return  # the real exec below reports a broken interpreter
    if not found:
        print(
            f"pyrometer run: warning: {executable} cannot import pyrometer, so it runs "
            f"uninstrumented; use the Python where pyrometer is installed ({sys.executable})",
            file=sys.stderr,
        )


def main(args: argparse.Namespace) -> int:
    command = args.passthrough
    if not command:
        print(
            "usage: pyrometer run [--service NAME] -- CMD [ARGS...]\n"
            "pyrometer run: error: give the command to run after `--`",
            file=sys.stderr,
        )
        return 2
    env = child_env(dict(os.environ), command, args.service)
    executable = resolve(command[0], env.get("PATH", os.defpath))
    if executable is None:
        print(f"pyrometer run: command not found: {command[0]}", file=sys.stderr)
        return 127
    warn_if_uninstrumentable(executable, env)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execve(executable, command, env)
    except OSError as exc:
        print(f"pyrometer run: cannot execute {command[0]}: {exc.strerror}", file=sys.stderr)
        return 126
    return 0  # not reached: execve replaced this process
