"""gunicorn: worker metadata (pid, parent pid, worker class, age) on every SERVER span of the
worker. Set in ``Worker.init_process``, which runs in each worker right after the fork.

They are span attributes, not resource attributes: the pipeline builds its resource once, in
the master (before the fork), and has no entry point to change it per worker.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Callable

from pyrometer.integrations import _common, _wrap

TARGET = "gunicorn.workers.base"  # imported by the arbiter before it forks workers
SUPPORTED = ">=20,<28"
_NAME = "gunicorn"


def _init_process(original: Callable[..., Any]) -> Callable[..., Any]:
    @_wrap.wraps(original)
    def init_process(self: Any) -> Any:
        try:
            _common.worker_attributes.update({
                "process.pid": os.getpid(),
                "process.parent_pid": int(self.ppid),
                "gunicorn.worker.class": type(self).__name__,
                "gunicorn.worker.age": int(self.age),
            })  # fmt: skip
        except Exception as err:
            _common.fault(_NAME, "init_process", err)
        return original(self)  # runs the worker loop; returns only when it exits

    return init_process


def patch() -> None:
    base = sys.modules.get(TARGET) or __import__(TARGET, fromlist=["Worker"])
    _wrap.wrap(base.Worker, "init_process", _init_process)


def unpatch() -> None:
    base = sys.modules.get(TARGET)
    if base is not None:
        _wrap.unwrap(base.Worker, "init_process")
