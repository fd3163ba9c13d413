"""stdlib logging: every LogRecord gets ``trace_id``/``span_id`` (usable in format strings as
``%(trace_id)s``), and records at or above PYROMETER_LOG_EXPORT_LEVEL (default WARNING) are
exported as OTLP log records linked to the span they were logged in.

Done in a LogRecord factory, not a handler: adding a handler to the root logger would turn the
app's own ``logging.basicConfig()`` into a no-op.
"""

from __future__ import annotations

import sys
import traceback
from typing import Any, Callable

from pyrometer.integrations import _common

TARGET = "logging"
SUPPORTED = ">=3.9"  # the Python version: logging ships with CPython
_NAME = "logging"
NO_TRACE = "0" * 32
NO_SPAN = "0" * 16

_installed: Callable[..., Any] | None = None  # our factory, while it is the current one
_previous: Callable[..., Any] | None = None


def _export(record: Any, span: Any) -> None:
    from pyrometer import _native

    submit = getattr(_native, "submit_log", None)
    if submit is None:
        return
    try:
        message = record.getMessage()
    except Exception:  # the app's own handlers will report the bad format arguments
        message = str(record.msg)
    attrs: dict[str, Any] = {
        "log.logger.name": record.name,
        "code.file.path": record.pathname,
        "code.line.number": record.lineno,
        "code.function.name": record.funcName,
        "thread.name": record.threadName,
    }
    if record.exc_info and record.exc_info[1] is not None:
        exc = record.exc_info[1]
        attrs["exception.type"] = type(exc).__qualname__
        attrs["exception.message"] = str(exc)
        attrs["exception.stacktrace"] = "".join(traceback.format_exception(*record.exc_info))
    trace_id = bytes.fromhex(span.trace_id) if span is not None else None
    span_id = bytes.fromhex(span.span_id) if span is not None else None
    submit(record.levelno, message, attrs, trace_id, span_id, "", int(record.created * 1e9),
           record.levelname)  # fmt: skip


def _factory(original: Callable[..., Any]) -> Callable[..., Any]:
    from pyrometer import _native

    current_span = _native.current_span
    threshold = [None]  # the configured level, read on first use (config is lazy)

    def record_factory(*args: Any, **kwargs: Any) -> Any:
        record = original(*args, **kwargs)
        try:
            span = current_span()
            if span is not None:
                record.trace_id, record.span_id = span.trace_id, span.span_id
            else:
                record.trace_id, record.span_id = NO_TRACE, NO_SPAN
            if threshold[0] is None:
                threshold[0] = _common.config().log_export_levelno
            if record.levelno >= threshold[0] and not record.name.startswith("pyrometer"):
                _export(record, span)
        except Exception as err:
            _common.fault(_NAME, "record", err)
        return record

    record_factory.__wrapped__ = original  # type: ignore[attr-defined]
    return record_factory


def patch() -> None:
    global _installed, _previous
    logging = sys.modules.get("logging") or __import__("logging")
    if _installed is not None and logging.getLogRecordFactory() is _installed:
        return
    _previous = logging.getLogRecordFactory()
    _installed = _factory(_previous)
    logging.setLogRecordFactory(_installed)


def unpatch() -> None:
    global _installed, _previous
    logging = sys.modules.get("logging")
    if logging is None or _installed is None:
        return
    if logging.getLogRecordFactory() is _installed:
        logging.setLogRecordFactory(_previous)
    # else the app installed its own factory over ours: leave the app's choice alone
    _installed = _previous = None
