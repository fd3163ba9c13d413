"""asyncio: every event loop that starts running is handed to the runtime's loop probe
(``pyrometer.runtime.watch_loop``): its heartbeat's lateness goes out as the
``pyrometer.asyncio.loop_lag`` histogram, and about once a second the loop's unfinished tasks as
the ``pyrometer.asyncio.tasks`` gauge (one series per loop thread).

Hooked at ``BaseEventLoop.run_forever``, which ``asyncio.run`` and ``run_until_complete`` use;
uvloop's C loop does not go through it and is not watched.
"""

from __future__ import annotations

import sys
from typing import Any, Callable

from pyrometer.integrations import _common, _wrap

TARGET = "asyncio"
SUPPORTED = ">=3.9"  # the Python version: asyncio ships with CPython
_NAME = "asyncio"


def _run_forever(original: Callable[..., Any]) -> Callable[..., Any]:
    @_wrap.wraps(original)
    def run_forever(self: Any) -> Any:
        try:
            from pyrometer import runtime

            runtime.watch_loop(self)  # idempotent per loop; a no-op when the agent is off
        except Exception as err:
            _common.fault(_NAME, "run_forever", err)
        return original(self)

    return run_forever


def patch() -> None:
    base_events = sys.modules.get("asyncio.base_events") or __import__(
        "asyncio.base_events", fromlist=["BaseEventLoop"]
    )
    _wrap.wrap(base_events.BaseEventLoop, "run_forever", _run_forever)


def unpatch() -> None:
    base_events = sys.modules.get("asyncio.base_events")
    if base_events is not None:
        _wrap.unwrap(base_events.BaseEventLoop, "run_forever")
