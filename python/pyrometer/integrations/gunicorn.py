"""gunicorn: sync and gthread workers run their WSGI app under the generic WSGI middleware (so a
plain WSGI app is traced too; Flask and Django then only name the route), and worker metadata
(pid, parent pid, worker class, age) goes on every SERVER span of the worker. Both are set in
the worker right after the fork (``init_process`` / ``load_wsgi``).

They are span attributes, not resource attributes: the pipeline builds its resource once, in
the master (before the fork), and has no entry point to change it per worker.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Callable

from pyrometer.integrations import _common, _wrap, wsgi

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


# Workers whose ``self.wsgi`` is a WSGI callable; ASGI workers (uvicorn's) must not be wrapped.
_WSGI_WORKERS = frozenset(("gunicorn.workers.sync", "gunicorn.workers.gthread"))


def _load_wsgi(original: Callable[..., Any]) -> Callable[..., Any]:
    @_wrap.wraps(original)
    def load_wsgi(self: Any) -> Any:
        result = original(self)
        try:
            app = getattr(self, "wsgi", None)
            if type(self).__module__ in _WSGI_WORKERS and callable(app):
                self.wsgi = wsgi.wrap_app(app, _NAME)
        except Exception as err:
            _common.fault(_NAME, "load_wsgi", err)
        return result

    return load_wsgi


def patch() -> None:
    base = sys.modules.get(TARGET) or __import__(TARGET, fromlist=["Worker"])
    try:
        _wrap.wrap(base.Worker, "init_process", _init_process)
        _wrap.wrap(base.Worker, "load_wsgi", _load_wsgi)
    except BaseException:
        unpatch()
        raise


def unpatch() -> None:
    base = sys.modules.get(TARGET)
    if base is not None:
        _wrap.unwrap(base.Worker, "init_process")
        _wrap.unwrap(base.Worker, "load_wsgi")
