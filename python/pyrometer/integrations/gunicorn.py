"""gunicorn: sync, gthread, gevent and eventlet workers run their WSGI app under the generic WSGI
middleware (so a plain WSGI app is traced too; Flask and Django then only name the route), and each
worker
describes itself on the exported resource (``runtime.update_resource``) right after the fork
(``init_process``): ``process.pid``, ``process.parent_pid`` (the arbiter),
``pyrometer.worker.kind`` = ``gunicorn``, ``pyrometer.worker.index`` (the arbiter's spawn counter,
``Worker.age``: 1..N for the first workers, higher for replacements) and
``gunicorn.worker.class``. Every span, metric and log of the worker then carries them; its
``service.instance.id`` is already its own (a new one is drawn in every forked child).
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
            from pyrometer import runtime

            runtime.update_resource({
                "process.pid": os.getpid(),
                "process.parent_pid": int(self.ppid),
                "pyrometer.worker.kind": "gunicorn",
                "pyrometer.worker.index": int(self.age),
                "gunicorn.worker.class": type(self).__name__,
            })  # fmt: skip
        except Exception as err:
            _common.fault(_NAME, "init_process", err)
        return original(self)  # runs the worker loop; returns only when it exits

    return init_process


# Workers whose ``self.wsgi`` is a WSGI callable; ASGI workers (uvicorn's) must not be wrapped.
# The gevent and eventlet workers serve the same callable from greenlets; context follows each
# greenlet because gevent gives every greenlet its own contextvars context.
_WSGI_WORKERS = frozenset((
    "gunicorn.workers.sync",
    "gunicorn.workers.gthread",
    "gunicorn.workers.ggevent",
    "gunicorn.workers.geventlet",
))  # fmt: skip


def _load_wsgi(original: Callable[..., Any]) -> Callable[..., Any]:
    @_wrap.wraps(original)
    def load_wsgi(self: Any) -> Any:
        result = original(self)
        try:
            app = getattr(self, "wsgi", None)
            # An app that traces itself (Flask, hooked) needs no pass-through layer.
            if (
                type(self).__module__ in _WSGI_WORKERS
                and callable(app)
                and not wsgi.traces_itself(app)
            ):
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
