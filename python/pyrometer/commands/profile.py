"""`pyrometer profile`: the one-shot profiler. Its flags are registered; it is not built yet."""

from __future__ import annotations

import argparse
import sys

from pyrometer import __version__


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "profile",
        help="profile one run of a script (not available yet)",
        description="Profile one run of a Python script (not available in this version).",
        usage="pyrometer profile [--mode cpu|wall|memory|all] [-o OUT] "
        "[--format html|pprof|speedscope|text] -- python SCRIPT [ARGS...]",
    )
    p.add_argument("--mode", choices=("cpu", "wall", "memory", "all"), default="all")
    p.add_argument("-o", "--output", metavar="OUT", help="output file")
    p.add_argument("--format", choices=("html", "pprof", "speedscope", "text"), default="html")
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    print(
        f"pyrometer profile: the profiler is not available in pyrometer {__version__}; "
        "nothing was run.",
        file=sys.stderr,
    )
    return 2
