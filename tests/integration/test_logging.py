"""logging integration: trace ids in format strings; WARNING+ records exported, linked to spans."""

from __future__ import annotations

import io
import logging
from typing import Any, Iterator

import pytest
from spans import Capture

from pyrometer import _native, api
from pyrometer.integrations import logging as logging_integration

pytestmark = pytest.mark.usefixtures("clean_integrations")


@pytest.fixture
def logger() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(trace_id)s %(span_id)s %(message)s"))
    log = logging.getLogger("shop.test_logging")
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    log.propagate = False
    try:
        yield log, out
    finally:
        log.removeHandler(handler)


@pytest.fixture
def submitted(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What reached the native log queue (submit_log's arguments), kept for the test."""
    calls: list[dict[str, Any]] = []

    def submit_log(level: int, message: str, attributes: Any = None, trace_id: Any = None,
                   span_id: Any = None, event_name: str = "", time_unix_nano: int = 0,
                   severity_text: str = "") -> bool:  # fmt: skip
        calls.append(dict(level=level, message=message, attributes=attributes, trace_id=trace_id,
                          span_id=span_id, severity_text=severity_text))  # fmt: skip
        return True

    monkeypatch.setattr(_native, "submit_log", submit_log, raising=False)
    return calls


def test_ids_in_format_and_export(
    logger: tuple[logging.Logger, io.StringIO], submitted: list[dict[str, Any]], capture: Capture
) -> None:
    log, out = logger
    logging_integration.patch()
    try:
        log.warning("outside %s", "any span")
        with api.span("checkout") as span:
            log.info("step %d", 1)
            try:
                raise ValueError("card declined")
            except ValueError:
                log.exception("payment failed for order %s", 42)
    finally:
        logging_integration.unpatch()
    lines = out.getvalue().splitlines()
    assert lines[0] == f"WARNING {'0' * 32} {'0' * 16} outside any span"
    assert lines[1] == f"INFO {span.trace_id} {span.span_id} step 1"
    assert lines[2].startswith(f"ERROR {span.trace_id} {span.span_id} payment failed for order 42")
    assert [c["message"] for c in submitted] == ["outside any span", "payment failed for order 42"]
    outside, failed = submitted
    assert outside["trace_id"] is None and outside["severity_text"] == "WARNING"
    assert failed["trace_id"] == bytes.fromhex(span.trace_id)
    assert failed["span_id"] == bytes.fromhex(span.span_id)
    assert failed["level"] == logging.ERROR
    assert failed["attributes"]["exception.type"] == "ValueError"
    assert failed["attributes"]["code.function.name"] == "test_ids_in_format_and_export"
    assert failed["attributes"]["log.logger.name"] == "shop.test_logging"
    capture.drain()


def test_unpatch_restores_factory_and_respects_the_apps() -> None:
    original = logging.getLogRecordFactory()
    logging_integration.patch()
    logging_integration.patch()
    assert logging.getLogRecordFactory().__wrapped__ is original
    logging_integration.unpatch()
    assert logging.getLogRecordFactory() is original

    logging_integration.patch()

    def apps_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return original(*args, **kwargs)

    logging.setLogRecordFactory(apps_factory)
    logging_integration.unpatch()
    try:
        assert logging.getLogRecordFactory() is apps_factory
    finally:
        logging.setLogRecordFactory(original)
