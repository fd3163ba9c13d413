"""Integration table for `pyrometer doctor`: what exists, what is installed, what would patch.

Reads installed versions with importlib.metadata and never imports the instrumented libraries.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from typing import Any

from pyrometer import integrations
from pyrometer.config import Config


def _release(version: str) -> tuple[int, ...]:
    """The numeric release part of a version: '2.3.1rc1' -> (2, 3, 1)."""
    parts = []
    for piece in version.split("."):
        digits = ""
        for ch in piece:
            if not ch.isdigit():
                break
            digits += ch
        if not digits:
            break
        parts.append(int(digits))
        if len(digits) != len(piece):
            break
    return tuple(parts)


def _cmp(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    n = max(len(a), len(b))
    a, b = a + (0,) * (n - len(a)), b + (0,) * (n - len(b))
    return (a > b) - (a < b)


def version_supported(version: str, specifier: str) -> bool | None:
    """Checks a version against a PEP 440 specifier on release numbers; None if unparseable."""
    have = _release(version)
    if not have:
        return None
    ops = {
        ">=": lambda c: c >= 0, "<=": lambda c: c <= 0, "==": lambda c: c == 0,
        "!=": lambda c: c != 0, ">": lambda c: c > 0, "<": lambda c: c < 0,
    }  # fmt: skip
    for clause in (c.strip() for c in specifier.split(",") if c.strip()):
        if clause.startswith("~="):
            want = _release(clause[2:].strip())
            if len(want) < 2:
                return None
            if _cmp(have, want) < 0 or have[: len(want) - 1] != want[:-1]:
                return False
            continue
        op = next((o for o in (">=", "<=", "==", "!=", ">", "<") if clause.startswith(o)), None)
        want = _release(clause[len(op) :].strip()) if op else ()
        if not op or not want:
            return None
        if not ops[op](_cmp(have, want)):
            return False
    return True


def installed_version(target: str) -> str | None:
    """Version of the distribution providing `target`, 'stdlib', or None if not installed."""
    import importlib.metadata as md

    top = target.split(".")[0]
    if top in getattr(sys, "stdlib_module_names", ()):
        return "stdlib"
    names: list[str] = []
    if hasattr(md, "packages_distributions"):  # Python 3.10+
        names = md.packages_distributions().get(top, [])
    for name in [*names, top]:
        try:
            return md.version(name)
        except md.PackageNotFoundError:
            continue
    return None


def describe(module_name: str, cfg: Config) -> tuple[str, str, str]:
    """(target, version, status) for one integration module."""
    registered = {i: t for t, i in integrations.REGISTRY.items()}
    try:
        module: Any = importlib.import_module(module_name)
        target, supported = module.TARGET, str(getattr(module, "SUPPORTED", ""))
    except Exception as exc:  # noqa: BLE001 - doctor reports, never crashes
        return "?", "?", f"BROKEN: cannot load integration: {type(exc).__name__}: {exc}"
    if target is None:
        return "-", "-", "helper used by other integrations (no TARGET)"
    version = installed_version(target)
    short = integrations.short_name(module_name)
    if registered.get(module_name) != target:
        status = "NOT REGISTERED in pyrometer.integrations.REGISTRY (will not patch)"
    elif short in cfg.disabled_integrations or target in cfg.disabled_integrations:
        status = "disabled by PYROMETER_DISABLED_INTEGRATIONS"
    elif version is None:
        status = "library not installed"
    elif version != "stdlib" and supported and version_supported(version, supported) is False:
        status = f"unsupported version (supports {supported}); patch() may refuse"
    else:
        status = "will patch on first import"
    return target, version or "-", status


def print_integrations(cfg: Config) -> None:
    found = sorted(
        integrations.__name__ + "." + m.name
        for m in pkgutil.iter_modules(integrations.__path__)
        if not m.name.startswith("_")
    )
    names = sorted(set(found) | set(integrations.REGISTRY.values()))
    print(f"Integrations ({len(names)}):")
    if not names:
        print("  (none in this version)")
    rows = [(integrations.short_name(n), *describe(n, cfg)) for n in names]
    widths = [max((len(r[i]) for r in rows), default=0) for i in range(3)]
    for short, target, version, status in rows:
        cells = (short.ljust(widths[0]), target.ljust(widths[1]), version.ljust(widths[2]))
        print("  " + "  ".join(cells) + "  " + status)
