"""The `pyrometer` command: serve, run, profile, doctor, demo.

Each subcommand lives in pyrometer/commands/<name>.py with `add_parser(subparsers)` and
`main(args) -> int`. Arguments after the first `--` are passed through (run, serve, profile).
"""

from __future__ import annotations

import argparse
import sys
from types import ModuleType

from pyrometer import __version__
from pyrometer.commands import demo, doctor, profile, run, serve

COMMANDS: tuple[ModuleType, ...] = (serve, run, profile, doctor, demo)
PASSTHROUGH_COMMANDS = ("serve", "run", "profile")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pyrometer",
        description="Self-hosted APM for Python services: tracing, golden signals, profiling.",
        epilog="Run `pyrometer COMMAND --help` for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"pyrometer {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    passthrough: list[str] | None = None
    if "--" in argv:
        cut = argv.index("--")
        argv, passthrough = argv[:cut], argv[cut + 1 :]
    parser = build_parser()
    args = parser.parse_args(argv)
    if passthrough is not None and args.command not in PASSTHROUGH_COMMANDS:
        parser.error(f"`pyrometer {args.command}` takes no arguments after `--`")  # exits 2
    args.passthrough = passthrough
    args.parser = parser
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        return 130
