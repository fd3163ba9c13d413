"""Celery: PRODUCER spans on publish with W3C context in the message headers, CONSUMER spans on
the worker continuing it (task name, retries, state, failures with structured stacks), and the
depth of each Redis-broker queue sampled every 10 s from the worker.

Everything hangs on Celery's signals, so no Celery class is modified. The queue depth is the
gauge ``pyrometer.celery.queue.depth`` (unit ``{message}``; attributes ``messaging.system`` and
``messaging.destination.name``): OTel's messaging conventions define no queue-depth metric.
"""

from __future__ import annotations

import collections
import sys
import threading
from typing import Any

from pyrometer.integrations import _common

TARGET = "celery"
SUPPORTED = ">=5.2,<6"
_NAME = "celery"
QUEUE_DEPTH_METRIC = "pyrometer.celery.queue.depth"
QUEUE_DEPTH_INTERVAL = 10.0
_MAX_PENDING = 4096  # publishes whose after_task_publish never came (broker error): bounded

_published: collections.OrderedDict[str, _common.Span] = collections.OrderedDict()
_running: dict[str, tuple[_common.Span, Any]] = {}
_lock = threading.Lock()
_sampler: threading.Thread | None = None
_sampler_stop = threading.Event()


def _task_attrs(name: str, task_id: str | None, queue: str | None, op: str) -> dict[str, Any]:
    return {
        "messaging.system": "celery",
        "messaging.operation.type": op,
        "messaging.destination.name": queue,
        "messaging.message.id": task_id,
        "celery.task.name": name,
    }


def before_task_publish(sender: Any = None, headers: Any = None, routing_key: Any = None,
                        **kwargs: Any) -> None:  # fmt: skip
    try:
        if not isinstance(headers, dict):
            return  # protocol 1 messages carry no headers we could write to
        name = str(headers.get("task") or sender)
        task_id = headers.get("id")
        span = _common.start(f"send {name}", _common.PRODUCER,
                             _task_attrs(name, task_id, routing_key, "send"))  # fmt: skip
        _common.inject(headers)  # the span is current here: its context goes with the message
        span.detach()  # ended by after_task_publish; never left current (it may not come)
        with _lock:
            _published[str(task_id)] = span
            while len(_published) > _MAX_PENDING:
                _published.popitem(last=False)
    except Exception as err:
        _common.fault(_NAME, "before_task_publish", err)


def after_task_publish(sender: Any = None, headers: Any = None, **kwargs: Any) -> None:
    task_id = str(headers.get("id")) if isinstance(headers, dict) else None
    with _lock:
        span = _published.pop(task_id, None) if task_id else None
    if span is not None:
        _common.finish(span, _NAME)


def task_prerun(sender: Any = None, task_id: Any = None, task: Any = None, **kwargs: Any) -> None:
    try:
        request = task.request
        carrier = {k: getattr(request, k, None) for k in ("traceparent", "tracestate", "baggage")}
        carrier = {k: v for k, v in carrier.items() if isinstance(v, str)}
        delivery = getattr(request, "delivery_info", None) or {}
        attrs = _task_attrs(task.name, task_id, delivery.get("routing_key"), "process")
        attrs["celery.retries"] = int(getattr(request, "retries", 0) or 0)
        span = _common.start(f"process {task.name}", _common.CONSUMER, attrs, carrier)
        with _lock:
            _running[str(task_id)] = (span, None)
    except Exception as err:
        _common.fault(_NAME, "task_prerun", err)


def _running_span(task_id: Any) -> _common.Span | None:
    with _lock:
        entry = _running.get(str(task_id))
    return entry[0] if entry else None


def task_failure(sender: Any = None, task_id: Any = None, exception: Any = None,
                 **kwargs: Any) -> None:  # fmt: skip
    span = _running_span(task_id)
    if span is not None and isinstance(exception, BaseException):
        try:
            span.error(exception)
        except Exception as err:
            _common.fault(_NAME, "task_failure", err)


def task_retry(sender: Any = None, request: Any = None, reason: Any = None, **kwargs: Any) -> None:
    span = _running_span(getattr(request, "id", None))
    if span is not None:
        try:
            span.set("celery.retry.reason", str(reason)[:200])
        except Exception as err:
            _common.fault(_NAME, "task_retry", err)


def task_postrun(sender: Any = None, task_id: Any = None, state: Any = None, **kwargs: Any) -> None:
    with _lock:
        entry = _running.pop(str(task_id), None)
    if entry is None:
        return
    span = entry[0]
    try:
        span.set("celery.state", str(state) if state is not None else None)
    except Exception as err:
        _common.fault(_NAME, "task_postrun", err)
    _common.finish(span, _NAME)


def _queue_depths(app: Any) -> dict[str, int]:
    url = str(app.conf.broker_url or "")
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return {}
    import redis  # the Redis transport of kombu needs redis-py, so it is there

    queues = [q.name for q in app.amqp.queues.values()] or [app.conf.task_default_queue]
    client = redis.Redis.from_url(url)
    try:
        with _common.suppress_db():  # our own LLENs are not the app's Redis traffic
            return {q: int(client.llen(q)) for q in queues}
    finally:
        client.close()


def _sample_queues(app: Any) -> None:
    from pyrometer import runtime

    while not _sampler_stop.wait(QUEUE_DEPTH_INTERVAL):
        try:
            for queue, depth in _queue_depths(app).items():
                attrs = {"messaging.system": "celery", "messaging.destination.name": queue}
                runtime.record_gauge(QUEUE_DEPTH_METRIC, depth, attrs, "{message}")
        except Exception as err:
            _common.fault(_NAME, "queue_depth", err)


def worker_ready(sender: Any = None, **kwargs: Any) -> None:
    """Starts the queue-depth sampler once per worker (the main process, not each child)."""
    global _sampler
    try:
        app = getattr(sender, "app", None)
        if app is None or (_sampler is not None and _sampler.is_alive()):
            return
        _sampler_stop.clear()
        _sampler = threading.Thread(target=_sample_queues, args=(app,), daemon=True,
                                    name="pyrometer-celery-queues")  # fmt: skip
        _sampler.start()
    except Exception as err:
        _common.fault(_NAME, "worker_ready", err)


_HANDLERS = {
    "before_task_publish": before_task_publish,
    "after_task_publish": after_task_publish,
    "task_prerun": task_prerun,
    "task_postrun": task_postrun,
    "task_failure": task_failure,
    "task_retry": task_retry,
    "worker_ready": worker_ready,
}


def patch() -> None:
    signals = sys.modules.get("celery.signals") or __import__("celery.signals").signals
    try:
        for name, handler in _HANDLERS.items():
            getattr(signals, name).connect(handler, weak=False, dispatch_uid=f"pyrometer.{name}")
    except BaseException:
        unpatch()
        raise


def unpatch() -> None:
    signals = sys.modules.get("celery.signals")
    if signals is None:
        return
    for name, handler in _HANDLERS.items():
        getattr(signals, name).disconnect(handler, dispatch_uid=f"pyrometer.{name}")
    _sampler_stop.set()
