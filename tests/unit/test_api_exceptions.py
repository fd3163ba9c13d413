"""Exception recording: qualified type, message, stack text and structured frames with in_app
marks, error status; through __exit__, record_exception() and the public helper."""

from __future__ import annotations

import json

import pytest
import tracer_fixtures
from tracer_fixtures import Captured

from pyrometer import api

captured = tracer_fixtures.captured  # the fixture, used by name


class PaymentDeclined(Exception):
    """An application exception with a qualified name."""


def _app_level() -> None:
    json.loads("{not json")  # fails inside the standard library


def test_escaping_exception_is_recorded_with_frames(captured: Captured) -> None:
    with pytest.raises(json.JSONDecodeError):
        with api.span("parse"):
            _app_level()
    (span,) = captured.drain()
    assert span["status_code"] == "error"
    assert span["status_message"].startswith("json.decoder.JSONDecodeError: Expecting")
    (event,) = span["events"]
    attrs = event["attributes"]
    assert event["name"] == "exception"
    assert attrs["exception.type"] == "json.decoder.JSONDecodeError"
    assert attrs["exception.message"].startswith("Expecting property name")
    assert attrs["exception.stacktrace"].startswith("Traceback (most recent call last):")
    assert "_app_level" in attrs["exception.stacktrace"]
    assert attrs["exception.escaped"] is True
    frames = span["exception_stack"]
    # Outermost first: this test, then _app_level, then the json module's own frames.
    assert frames[0]["function"].endswith("test_escaping_exception_is_recorded_with_frames")
    assert frames[0]["file"] == __file__ and frames[0]["in_app"] is True
    assert frames[1]["function"] == "_app_level" and frames[1]["in_app"] is True
    assert frames[1]["line"] == _app_level.__code__.co_firstlineno + 1
    library = [f for f in frames[2:]]
    assert library and all(f["file"].endswith(".py") for f in library)
    assert all(not f["in_app"] for f in library)  # stdlib frames are not the app's


def test_builtin_types_have_no_module_prefix_and_custom_types_do(captured: Captured) -> None:
    with api.span("a") as a:
        a.record_exception(ValueError("v"))
    with api.span("b") as b:
        b.record_exception(PaymentDeclined("card 4242"))
    spans = captured.by_name()
    assert spans["a"]["events"][0]["attributes"]["exception.type"] == "ValueError"
    t = spans["b"]["events"][0]["attributes"]["exception.type"]
    assert t == f"{__name__}.PaymentDeclined"
    assert spans["b"]["events"][0]["attributes"]["exception.escaped"] is False
    # An exception never raised has no traceback: no frames, still an error.
    assert spans["b"]["exception_stack"] == []
    assert spans["b"]["status_code"] == "error"


def test_record_exception_helper_uses_the_handled_exception(captured: Captured) -> None:
    with api.span("handler"):
        try:
            raise PaymentDeclined("insufficient funds")
        except PaymentDeclined:
            api.record_exception()
        api.record_exception()  # nothing being handled: no-op
    (span,) = captured.drain()
    assert len(span["events"]) == 1
    assert span["events"][0]["attributes"]["exception.message"] == "insufficient funds"
    assert span["exception_stack"][0]["in_app"] is True


def test_record_exception_accepts_extra_event_attributes(captured: Captured) -> None:
    with api.span("x") as s:
        s.record_exception(ValueError("v"), attributes={"exception.frames": "[]"})
    (span,) = captured.drain()
    assert span["events"][0]["attributes"]["exception.frames"] == "[]"


def test_record_exception_rejects_non_exceptions() -> None:
    with api.span("x") as s, pytest.raises(TypeError):
        s.record_exception("not an exception")


def test_error_in_child_marks_only_the_child(captured: Captured) -> None:
    with api.span("root"):
        with pytest.raises(ZeroDivisionError), api.span("child"):
            _ = 1 / 0
    spans = captured.by_name()
    assert spans["child"]["status_code"] == "error"
    assert spans["root"]["status_code"] == "unset"
    assert json.dumps(spans["child"]["exception_stack"])  # plain data, serialisable


def test_generator_closed_early_is_not_an_error(captured: Captured) -> None:
    def numbers():  # type: ignore[no-untyped-def]
        with api.span("gen"):
            yield 1
            yield 2

    g = numbers()
    assert next(g) == 1
    g.close()  # GeneratorExit passes through the span: control flow, not a failure
    (span,) = captured.drain()
    assert span["status_code"] == "unset" and span["events"] == []
