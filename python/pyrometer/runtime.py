"""Starts the native export pipeline and the Python-side runtime probes.

``start_agent(cfg)`` is the one call the public API's ``_start`` makes for the pipeline side: it
creates the native pipeline (its threads start lazily, on first use — never here and never at
import), installs the probes that need the interpreter (``gc.callbacks`` for GC pauses, a
rate-limited sampler of ``len(sys.modules)``, ``gc.get_count()`` and ``sys.getallocatedblocks()``),
and the exit hooks. Safe to call twice.

Why these probes and not others: ``len(gc.get_objects())`` builds a list of every tracked object
(tens of milliseconds on a large heap), so the "objects" gauge is ``sys.getallocatedblocks()``
(live pymalloc blocks) plus ``gc.get_count()``. Interpreter values are read from inside the GC
callback, which already runs with the GIL — so no Python thread is started. Event-loop lag needs
the loop's own thread: a loop found running in another thread cannot be instrumented from outside,
so ``watch_loop(loop)`` is called by the asyncio integration for each loop it sees start.

Gauges: ``record_gauge`` is the typed entry point for integrations that sample a level (Celery
queue depth, asyncio task count): the native store keeps the last value per series and exports it
at every metrics interval. ``update_resource`` changes the exported resource after fork (a
gunicorn/uvicorn worker's pid and worker identity); a process that forks again refreshes
``process.pid`` in the child.

Exit: ``threading._register_atexit`` (runs in ``threading._shutdown``, which multiprocessing
children also run before ``os._exit``) flushes; ``atexit`` flushes and stops the native threads
before interpreter finalisation. Children leaving through a bare ``os._exit`` (celery prefork,
gunicorn's arbiter killing a worker) lose at most one ``export_interval`` of spans.
"""

from __future__ import annotations

import atexit
import gc
import os
import sys
import threading
import time
import weakref
from typing import Any, Mapping, Union

from pyrometer._logging import get_logger, report_once

_lock = threading.Lock()
_started = False
_gc_starts: dict[int, float] = {}
_last_gauges = 0.0
_last_drain = 0.0
_GAUGE_PERIOD_S = 1.0
_DRAIN_PERIOD_S = 10.0
_watched_loops: weakref.WeakSet[Any] = weakref.WeakSet()
_exit_flush_s = 2.0
_resource_updates: dict[str, Any] = {}  # what update_resource set, for the after-fork refresh

AttributeValue = Union[str, int, float, bool]
ASYNCIO_TASKS_METRIC = "pyrometer.asyncio.tasks"
_TASK_COUNT_PERIOD_S = 1.0


def _native() -> Any:
    try:
        from pyrometer import _native as native
    except ImportError as exc:  # a wheel without the extension: the agent stays off
        report_once("runtime.import", "pyrometer._native is not available; agent disabled", exc)
        return None
    if not hasattr(native, "start_pipeline"):
        report_once("runtime.abi", "pyrometer._native has no pipeline; agent disabled")
        return None
    return native


def _headers(cfg: Any) -> dict[str, str]:
    headers = dict(getattr(cfg, "headers", None) or {})
    token = getattr(cfg, "token", None)
    if token and not any(k.lower() == "authorization" for k in headers):
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _resource_attributes(cfg: Any) -> dict[str, str]:
    attrs = {str(k): str(v) for k, v in (getattr(cfg, "resource_attributes", None) or {}).items()}
    env = getattr(cfg, "environment", None)
    if env and "deployment.environment.name" not in attrs:
        attrs["deployment.environment.name"] = str(env)
    return attrs


def start_agent(cfg: Any) -> bool:
    """Creates the native pipeline from a :class:`pyrometer.config.Config` and installs probes.

    Returns True when this call started it; False when already started, disabled
    (``cfg.enabled`` false) or unavailable. Never raises.
    """
    global _started, _exit_flush_s
    try:
        if not getattr(cfg, "enabled", True):
            return False
        with _lock:
            if _started:
                return False
            native = _native()
            if native is None:
                return False
            base = str(getattr(cfg, "endpoint", "http://127.0.0.1:8321")).rstrip("/")
            native.start_pipeline(
                service_name=str(getattr(cfg, "service_name", "python")),
                resource_attributes=_resource_attributes(cfg),
                traces_url=str(getattr(cfg, "traces_endpoint", None) or base + "/v1/traces"),
                metrics_url=str(getattr(cfg, "metrics_endpoint", None) or base + "/v1/metrics"),
                logs_url=str(getattr(cfg, "logs_endpoint", None) or base + "/v1/logs"),
                headers=_headers(cfg),
                export_interval_s=float(getattr(cfg, "export_interval", 5.0)),
                metrics_interval_s=float(getattr(cfg, "metrics_interval", 10.0)),
                flush_timeout_s=float(getattr(cfg, "flush_timeout", 2.0)),
                max_queue_spans=int(getattr(cfg, "max_queue_spans", 2048)),
                compression=str(getattr(cfg, "compression", "gzip")),
            )
            _started = True
            _exit_flush_s = float(getattr(cfg, "flush_timeout", 2.0))
        _install_probes(native)
        return True
    except Exception as exc:  # never break the app
        report_once("runtime.start", "pyrometer could not start its pipeline", exc)
        return False


def _install_probes(native: Any) -> None:
    _sample_gauges(native, force=True)
    if _gc_callback not in gc.callbacks:
        gc.callbacks.append(_gc_callback)
    atexit.register(_at_exit)
    register = getattr(threading, "_register_atexit", None)  # 3.9+, private but stable
    if register is not None:
        try:
            register(_at_threading_shutdown)
        except RuntimeError:  # interpreter already shutting down
            pass
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork_in_child)


def _sample_gauges(native: Any, force: bool = False) -> None:
    global _last_gauges
    now = time.monotonic()
    if not force and now - _last_gauges < _GAUGE_PERIOD_S:
        return
    _last_gauges = now
    c0, c1, c2 = gc.get_count()
    native.record_python_gauges(len(sys.modules), sys.getallocatedblocks(), c0, c1, c2)


def _gc_callback(phase: str, info: dict[str, Any]) -> None:
    global _last_drain
    try:
        gen = int(info.get("generation", 0))
        if phase == "start":
            _gc_starts[gen] = time.perf_counter()
            return
        started = _gc_starts.pop(gen, None)
        native = sys.modules.get("pyrometer._native")
        if native is None:
            return
        if started is not None:
            native.record_gc_pause(gen, time.perf_counter() - started)
        _sample_gauges(native)
        now = time.monotonic()
        if now - _last_drain >= _DRAIN_PERIOD_S:
            _last_drain = now
            drain_messages()
    except Exception as exc:
        _remove_gc_callback()
        report_once("runtime.gc", "GC probe failed and was disabled", exc)


def _remove_gc_callback() -> None:
    try:
        gc.callbacks.remove(_gc_callback)
    except ValueError:
        pass


def drain_messages() -> None:
    """Logs (once each) the problems the native pipeline has reported since the last call."""
    native = sys.modules.get("pyrometer._native")
    if native is None or not hasattr(native, "take_messages"):
        return
    logger = get_logger()
    for msg in native.take_messages():
        logger.warning("%s", msg)


def flush(timeout: float = 2.0) -> bool:
    """Exports everything queued now (traces, logs, metrics); True when sent within timeout."""
    native = sys.modules.get("pyrometer._native")
    if not _started or native is None:
        return False
    try:
        ok = bool(native.flush(timeout))
    except Exception as exc:
        report_once("runtime.flush", "flush failed", exc)
        return False
    drain_messages()
    return ok


def shutdown() -> None:
    """Flushes (bounded by the configured flush_timeout) and stops the native threads."""
    native = sys.modules.get("pyrometer._native")
    if not _started or native is None:
        return
    try:
        native.shutdown()
        drain_messages()
    except Exception as exc:
        report_once("runtime.shutdown", "shutdown failed", exc)


def stats() -> dict[str, Any]:
    """The native pipeline's counters (queued, dropped, sent, errors, last_error, ...)."""
    native = sys.modules.get("pyrometer._native")
    if native is None or not hasattr(native, "pipeline_stats"):
        return {"started": False}
    return dict(native.pipeline_stats())


def record_gauge(
    name: str,
    value: float,
    attributes: Mapping[str, AttributeValue] | None = None,
    unit: str = "",
) -> bool:
    """Sets the last value of the gauge series (``name``, ``attributes``).

    Exported as an OTLP Gauge point (process resource, ``pyrometer`` scope) at every metrics
    interval until it is not updated for three intervals (at least 30 s). Cheap (one native lock,
    no I/O), callable from any thread, never raises. False when the agent is not running or the
    reading was dropped: past the series limit (1000 live series), an empty or over-long name, a
    non-finite value, more than 16 attributes — drops are counted (``_native.gauge_stats()``)
    and reported once.
    """
    native = sys.modules.get("pyrometer._native")
    if native is None or not _started:
        return False
    try:
        if attributes is not None and type(attributes) is not dict:
            attributes = dict(attributes)  # the binding takes a dict (any Mapping here)
        return bool(native.record_gauge(name, value, attributes, unit))
    except Exception as exc:
        report_once("runtime.record_gauge", f"gauge {name!r} could not be recorded", exc)
        return False


def update_resource(attributes: Mapping[str, AttributeValue]) -> bool:
    """Sets resource attributes on everything the process exports from now on (spans, metrics,
    logs), replacing earlier values of the same keys. Meant for a worker right after fork:
    ``process.pid``, ``process.parent_pid``, worker kind and index. A string
    ``service.instance.id`` replaces the instance id; ``service.name`` is ignored. Never raises;
    False when the agent is not running."""
    native = sys.modules.get("pyrometer._native")
    if native is None or not _started:
        return False
    try:
        ok = bool(native.update_resource(dict(attributes)))
    except Exception as exc:
        report_once("runtime.update_resource", "resource attributes could not be updated", exc)
        return False
    _resource_updates.update(attributes)
    return ok


def resource_updates() -> dict[str, Any]:
    """The attributes update_resource has set in this process (a copy)."""
    return dict(_resource_updates)


def _at_threading_shutdown() -> None:
    # Runs before atexit and in multiprocessing children (before their os._exit).
    native = sys.modules.get("pyrometer._native")
    if native is None:
        return
    try:
        native.flush(_exit_flush_s)
    except Exception as exc:
        report_once("runtime.exit_flush", "exit flush failed", exc)


def _at_exit() -> None:
    _remove_gc_callback()
    shutdown()


def _after_fork_in_child() -> None:
    # The native side resets itself in pthread_atfork (fresh queues, new instance id,
    # threads restart on next use); only the Python probe state is per process here.
    global _last_gauges, _last_drain
    _gc_starts.clear()
    _last_gauges = 0.0
    _last_drain = 0.0
    _watched_loops.clear()
    if "process.pid" in _resource_updates:  # a worker forking again: the pid is the child's
        update_resource({"process.pid": os.getpid(), "process.parent_pid": os.getppid()})


# ---- asyncio event-loop lag and task count ---------------------------------------------------


def watch_loop(loop: Any, interval: float = 0.25) -> None:
    """Measures how late `loop` runs a heartbeat scheduled every `interval` seconds.

    Each lateness goes to the ``pyrometer.asyncio.loop_lag`` histogram. About once a second the
    same heartbeat also records the loop's unfinished tasks as the ``pyrometer.asyncio.tasks``
    gauge, one series per loop thread (``thread.id``, ``thread.name``). Safe from any thread
    (scheduling goes through call_soon_threadsafe), idempotent per loop, and it stops by itself
    when the loop closes.
    """
    native = sys.modules.get("pyrometer._native")
    if native is None or not _started:
        return
    try:
        if loop in _watched_loops:
            return
        _watched_loops.add(loop)
        loop.call_soon_threadsafe(_Heartbeat(loop, interval, native).schedule)
    except Exception as exc:
        report_once("runtime.watch_loop", "could not watch the event loop", exc)


class _Heartbeat:
    __slots__ = ("_loop", "_interval", "_native", "_due", "_next_count", "_thread")

    def __init__(self, loop: Any, interval: float, native: Any) -> None:
        self._loop = loop
        self._interval = interval
        self._native = native
        self._due = 0.0
        self._next_count = 0.0
        self._thread: dict[str, Any] | None = None

    def schedule(self) -> None:
        self._due = self._loop.time() + self._interval
        self._loop.call_later(self._interval, self._beat)

    def _beat(self) -> None:
        try:
            now = self._loop.time()
            self._native.record_loop_lag(max(0.0, now - self._due))
            if now >= self._next_count:
                self._next_count = now + _TASK_COUNT_PERIOD_S
                self._count_tasks()
            if not self._loop.is_closed():
                self.schedule()
        except Exception as exc:
            report_once("runtime.loop_lag", "event-loop heartbeat failed and stopped", exc)

    def _count_tasks(self) -> None:
        # Runs in the loop's thread. all_tasks() copies a WeakSet: O(tasks), once a second.
        import asyncio

        if self._thread is None:  # the heartbeat always runs in the loop's own thread
            current = threading.current_thread()
            self._thread = {"thread.id": threading.get_native_id(), "thread.name": current.name}
        tasks = len(asyncio.all_tasks(self._loop))
        self._native.record_gauge(ASYNCIO_TASKS_METRIC, tasks, self._thread, "{task}")
