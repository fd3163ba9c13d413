"""Structured stacks for unhandled exceptions, shared by every server and task integration.

Each frame carries file, line, function, source line and an ``in_app`` mark; in-app frames also
carry their first local variables (truncated reprs) unless PYROMETER_CAPTURE_LOCALS=false.
"""

from __future__ import annotations

import json
import linecache
import os
import re
import sysconfig
from types import TracebackType
from typing import Any

MAX_FRAMES = 64  # innermost kept when a recursion overflows; the event stays bounded
MAX_LOCALS = 5
MAX_REPR = 200
_SECRET = re.compile(r"pass|secret|token|key|auth|cookie|session|credential", re.IGNORECASE)


def _library_roots() -> tuple[str, ...]:
    roots = set()
    for name in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(name)
        if path:
            roots.add(os.path.realpath(path) + os.sep)
    roots.add(_OURS)
    return tuple(sorted(roots))


_OURS = os.path.dirname(os.path.dirname(os.path.realpath(__file__))) + os.sep
_ROOTS = _library_roots()


def is_in_app(filename: str) -> bool:
    """True for the application's own code: not the stdlib, not an installed package, not us."""
    if not filename or filename.startswith("<"):
        return False
    if "site-packages" in filename or "dist-packages" in filename:
        return False
    return not os.path.realpath(filename).startswith(_ROOTS)


def _safe_repr(value: Any) -> str:
    try:
        text = repr(value)
    except Exception as exc:  # a broken __repr__ must not break error capture
        text = f"<repr failed: {type(exc).__name__}>"
    return text if len(text) <= MAX_REPR else text[: MAX_REPR - 3] + "..."


def _locals(frame: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in list(frame.f_locals.items()):
        if len(out) >= MAX_LOCALS:
            break
        if name.startswith("__"):
            continue
        out[name] = "[redacted]" if _SECRET.search(name) else _safe_repr(value)
    return out


def frames(tb: TracebackType | None, capture_locals: bool = True) -> list[dict[str, Any]]:
    """The traceback as a list of frames, outermost first (innermost MAX_FRAMES kept).

    Our own wrapper frames are left out: they are not part of the app's story.
    """
    out: list[dict[str, Any]] = []
    while tb is not None:
        frame = tb.tb_frame
        code = frame.f_code
        filename = code.co_filename
        if filename.startswith(_OURS) and "/integrations/" in filename:
            tb = tb.tb_next
            continue
        in_app = is_in_app(filename)
        entry: dict[str, Any] = {
            "file": filename,
            "line": tb.tb_lineno,
            "function": code.co_name,
            "source": linecache.getline(filename, tb.tb_lineno, frame.f_globals).strip(),
            "in_app": in_app,
        }
        if in_app and capture_locals:
            entry["locals"] = _locals(frame)
        out.append(entry)
        tb = tb.tb_next
    return out[-MAX_FRAMES:]


def frames_json(exc: BaseException, capture_locals: bool = True) -> str:
    return json.dumps(frames(exc.__traceback__, capture_locals), separators=(",", ":"))
