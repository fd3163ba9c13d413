"""Pyrometer: self-hosted APM for Python services with a C++ core.

The public API lives in :mod:`pyrometer.api` and is re-exported here lazily (PEP 562), so
``import pyrometer`` has no side effects and does not load the native module.
"""

from __future__ import annotations

__version__ = "0.1.0"

_API = (
    "span",
    "current_span",
    "flush",
    "set_attribute",
    "record_exception",
    "set_user",
    "set_tag",
    "trace",
    "start_span",
    "SpanKind",
    "StatusCode",
)
__all__ = ["__version__", *_API]


def __getattr__(name: str) -> object:
    if name in _API:
        from pyrometer import api

        value = getattr(api, name)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module 'pyrometer' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
