"""The ``pyrometer`` command: serve, run, profile, doctor, demo.

Placeholder parser; each subcommand is filled in by its issue.
"""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pyrometer", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("serve", "run", "profile", "doctor", "demo"):
        sub.add_parser(name)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    print(f"pyrometer {args.command}: not yet implemented", file=sys.stderr)
    return 2
