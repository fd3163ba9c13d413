"""uvicorn: each server process describes itself on the exported resource
(``runtime.update_resource``) when ``Server.serve`` starts: ``process.pid``,
``process.parent_pid``, ``pyrometer.worker.kind`` = ``uvicorn``, ``uvicorn.workers`` and, for a
``--workers N`` child (a multiprocessing spawn child named ``SpawnProcess-<n>``),
``pyrometer.worker.index`` = n. Under gunicorn's UvicornWorker the gunicorn integration has
already described the worker, so its kind and index stay.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from typing import Any, Callable

from pyrometer.integrations import _common, _wrap

TARGET = "uvicorn.server"
SUPPORTED = ">=0.20,<1"
_NAME = "uvicorn"


def _worker_index() -> int | None:
    """n of a multiprocessing child named ``<Kind>Process-<n>``; None for a main process."""
    process = multiprocessing.current_process()
    if multiprocessing.parent_process() is None:
        return None
    suffix = process.name.rpartition("-")[2]
    return int(suffix) if suffix.isdigit() else None


def _describe(server: Any) -> None:
    from pyrometer import runtime

    attrs: dict[str, Any] = {
        "process.pid": os.getpid(),
        "process.parent_pid": os.getppid(),
        "uvicorn.workers": int(getattr(server.config, "workers", None) or 1),
    }
    if "pyrometer.worker.kind" not in runtime.resource_updates():
        attrs["pyrometer.worker.kind"] = "uvicorn"
        index = _worker_index()
        if index is not None:
            attrs["pyrometer.worker.index"] = index
    runtime.update_resource(attrs)


def _serve(original: Callable[..., Any]) -> Callable[..., Any]:
    @_wrap.wraps(original)
    async def serve(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            _describe(self)
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
