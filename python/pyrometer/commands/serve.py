"""`pyrometer serve`: replaces this process with the pyrometer-server binary, flags as given."""

from __future__ import annotations

import argparse
import os
import sys

from pyrometer.commands._server_bin import ServerBinaryMissing, server_binary

# CLI flag -> argparse dest; the server binary implements exactly these flags.
FLAGS = (
    ("--data", "DIR", "data directory (write-ahead log and blocks)"),
    ("--listen", "HOST:PORT", "address to listen on (default 127.0.0.1:8321)"),
    ("--storage", "URL", "embedded (default) or clickhouse://HOST:PORT/DB"),
    ("--retention", "DURATION", "how long data is kept, e.g. 7d"),
    ("--max-disk", "SIZE", "disk budget for stored data, e.g. 10GB"),
    ("--max-memory", "SIZE", "memory budget, e.g. 1GB"),
    ("--max-body", "SIZE", "largest accepted request body"),
    ("--fsync-interval", "DURATION", "how often the write-ahead log is fsynced"),
    ("--threads", "N", "worker threads"),
    (
        "--webhook-ca-file",
        "PATH",
        "PEM CA certificates trusted for https alert webhooks, besides the system store",
    ),
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="run the collector, storage and query API (pyrometer-server)",
        description="Run pyrometer-server. Flags after `--` are passed to it unchanged.",
        usage="pyrometer serve [options] [-- SERVER_FLAGS...]",
    )
    for flag, metavar, text in FLAGS:
        p.add_argument(flag, metavar=metavar, help=text)
    p.set_defaults(handler=main)


def server_argv(args: argparse.Namespace) -> list[str]:
    """The server's argv (without argv[0]): only the flags the user gave, then the pass-through."""
    out: list[str] = []
    for flag, _, _ in FLAGS:
        value = getattr(args, flag[2:].replace("-", "_"), None)
        if value is not None:
            out += [flag, value]
    return out + list(args.passthrough or [])


def main(args: argparse.Namespace) -> int:
    try:
        binary = server_binary()
    except ServerBinaryMissing as exc:
        print(f"pyrometer serve: {exc}", file=sys.stderr)
        return 1
    argv = [binary, *server_argv(args)]
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execv(binary, argv)
    except OSError as exc:
        print(f"pyrometer serve: cannot start {binary}: {exc}", file=sys.stderr)
        return 126
    return 0  # not reached: execv replaced this process
