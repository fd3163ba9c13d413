"""The `pyrometer` logger and the "report once" rule every hook follows on internal failure.

By default the logger has only a NullHandler (records still propagate to the app's root handlers);
PYROMETER_DEBUG=1 adds a stderr handler at DEBUG level. Errors are counted per key for doctor/tests.
"""

from __future__ import annotations

import logging
import os
import threading

LOGGER_NAME = "pyrometer"

_lock = threading.Lock()
_counts: dict[str, int] = {}
_configured = False


def get_logger() -> logging.Logger:
    """The `pyrometer` logger, set up on first use (PYROMETER_DEBUG is read then, not at import)."""
    global _configured
    logger = logging.getLogger(LOGGER_NAME)
    if _configured:
        return logger
    with _lock:
        if not _configured:
            logger.addHandler(logging.NullHandler())
            if os.environ.get("PYROMETER_DEBUG", "").strip().lower() in ("1", "true", "yes", "on"):
                _add_stderr_handler(logger)
            _configured = True
    return logger


def enable_debug() -> None:
    """Sends the `pyrometer` logger to stderr at DEBUG level (`debug = true` in pyrometer.toml)."""
    logger = get_logger()
    with _lock:
        _add_stderr_handler(logger)


def _add_stderr_handler(logger: logging.Logger) -> None:
    if any(getattr(h, "_pyrometer_debug", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("pyrometer[%(process)d] %(levelname)s: %(message)s"))
    handler._pyrometer_debug = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)


def report_once(key: str, msg: str, exc: BaseException | None = None) -> None:
    """Counts an internal error under `key`; logs a warning (with traceback) only the first time.

    Thread-safe and never raises: a failure while reporting must not become the app's failure.
    """
    with _lock:
        count = _counts.get(key, 0) + 1
        _counts[key] = count
    if count != 1:
        return
    try:
        exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
        get_logger().warning("%s [%s]", msg, key, exc_info=exc_info)
    except Exception:  # noqa: BLE001 - logging itself failed (broken handler); the count remains
        pass


def _after_fork_in_child() -> None:
    # A thread of the parent may have held the lock at fork(); the child has no such thread.
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def error_counts() -> dict[str, int]:
    """A snapshot of internal error counts per key since start (or since reset_counts)."""
    with _lock:
        return dict(_counts)


def reset_counts() -> None:
    """Forgets counts and "already reported" state; for tests and for forked children."""
    with _lock:
        _counts.clear()
