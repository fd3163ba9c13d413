"""uvicorn: worker metadata (pid, parent pid, server) on every SERVER span of the process,
set when ``Server.serve`` starts; with ``--workers N`` each worker is its own process.

Span attributes, not resource attributes: the pipeline's resource is fixed at start.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Callable

from pyrometer.integrations import _common, _wrap

TARGET = "uvicorn.server"
SUPPORTED = ">=0.20,<1"
_NAME = "uvicorn"


def _serve(original: Callable[..., Any]) -> Callable[..., Any]:
    @_wrap.wraps(original)
    async def serve(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            _common.worker_attributes.update({
                "process.pid": os.getpid(),
                "process.parent_pid": os.getppid(),
                "uvicorn.workers": int(getattr(self.config, "workers", None) or 1),
            })  # fmt: skip
        except Exception as err:
            _common.fault(_NAME, "serve", err)
        return await original(self, *args, **kwargs)

    return serve


def patch() -> None:
    server = sys.modules.get(TARGET) or __import__(TARGET, fromlist=["Server"])
    _wrap.wrap(server.Server, "serve", _serve)


def unpatch() -> None:
    server = sys.modules.get(TARGET)
    if server is not None:
        _wrap.unwrap(server.Server, "serve")
