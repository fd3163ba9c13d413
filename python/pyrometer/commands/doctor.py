"""`pyrometer doctor`: effective configuration with sources, runtime, integrations, collector.

Libraries are never imported: installed versions come from importlib.metadata. Exit 0 when the
collector answers an empty OTLP export with 2xx, 1 otherwise.
"""

from __future__ import annotations

import argparse
import platform
import sys
from dataclasses import fields

from pyrometer import __version__
from pyrometer.commands import _integration_report
from pyrometer.config import Config, load

_SECRET_FIELDS = ("token", "headers")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "doctor",
        help="check configuration, integrations and the collector",
        description="Print the effective configuration (with where each value came from), the "
        "Python and agent versions, the integrations that would patch, and check the collector.",
    )
    p.add_argument("--timeout", type=float, default=2.0, help="collector check timeout (s)")
    p.set_defaults(handler=main)


def _display(cfg: Config, name: str) -> str:
    value = getattr(cfg, name)
    if name in _SECRET_FIELDS and value:
        if isinstance(value, dict):
            return ", ".join(f"{k}=***" for k in value)
        return "*** (set)"
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items()) or "(none)"
    if isinstance(value, tuple):
        return ",".join(value) or "(none)"
    return "(none)" if value is None else str(value)


def print_config(cfg: Config) -> None:
    print("Configuration (value  <- source):")
    names = [f.name for f in fields(Config) if f.name not in ("sources", "warnings")]
    width = max(len(n) for n in names)
    for name in names:
        print(f"  {name:<{width}}  {_display(cfg, name)}  <- {cfg.sources.get(name, 'default')}")
    for warning in cfg.warnings:
        print(f"  WARNING: {warning}")


def print_runtime() -> None:
    print("Runtime:")
    print(f"  pyrometer   {__version__}")
    impl = platform.python_implementation()
    print(f"  python      {impl} {platform.python_version()} ({sys.executable})")
    try:
        from pyrometer import _native

        abi = getattr(_native, "ABI_VERSION", "unknown")
        print(f"  _native     OK (ABI_VERSION {abi}, {_native.__file__})")
    except Exception as exc:  # noqa: BLE001 - reporting why is the point of doctor
        print(f"  _native     FAILED to import: {type(exc).__name__}: {exc}")


def check_collector(cfg: Config, timeout: float) -> tuple[bool, str]:
    """POSTs an empty ExportTraceServiceRequest to the traces endpoint; (ok, human reason)."""
    import urllib.error
    import urllib.request

    headers = {"Content-Type": "application/x-protobuf", **cfg.export_headers()}
    request = urllib.request.Request(cfg.traces_endpoint, data=b"", headers=headers, method="POST")
    # Like the agent's exporter, ignore http_proxy: the collector is addressed directly.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as response:
            return True, f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        hint = " (check PYROMETER_TOKEN)" if exc.code in (401, 403) else ""
        return False, f"HTTP {exc.code} {exc.reason}{hint}"
    except urllib.error.URLError as exc:
        return False, f"{exc.reason}"
    except (OSError, ValueError) as exc:  # timeouts, bad URLs
        return False, f"{type(exc).__name__}: {exc}"


def main(args: argparse.Namespace) -> int:
    cfg = load()
    print_config(cfg)
    print_runtime()
    _integration_report.print_integrations(cfg)
    ok, reason = check_collector(cfg, args.timeout)
    status = "OK" if ok else "FAILED"
    print(f"Collector: {status} — POST {cfg.traces_endpoint}: {reason}")
    if not ok:
        print("  Start one with `pyrometer serve`, or set OTEL_EXPORTER_OTLP_ENDPOINT.")
    return 0 if ok else 1
