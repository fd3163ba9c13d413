"""Spans through the public API: tree links, attributes, events, status, ids, manual spans."""

from __future__ import annotations

import re
from types import MappingProxyType

import pytest
import tracer_fixtures
from tracer_fixtures import Captured

import pyrometer
from pyrometer import api

captured = tracer_fixtures.captured  # the fixture, used by name


def test_nested_spans_link_to_their_parents(captured: Captured) -> None:
    with pyrometer.span("root", kind="server") as root:
        with api.span("a") as a:
            with api.span("a1"):
                pass
        with api.span("b"):
            pass
    spans = captured.by_name()
    assert set(spans) == {"root", "a", "a1", "b"}
    assert spans["root"]["parent_span_id"] is None
    assert spans["a"]["parent_span_id"] == root.span_id
    assert spans["b"]["parent_span_id"] == root.span_id
    assert spans["a1"]["parent_span_id"] == a.span_id
    assert {s["trace_id"] for s in spans.values()} == {root.trace_id}
    assert spans["root"]["kind"] == "server"
    assert spans["a"]["kind"] == "internal"
    assert spans["root"]["start_unix_nano"] <= spans["a"]["start_unix_nano"]
    assert spans["a"]["end_unix_nano"] <= spans["root"]["end_unix_nano"]


def test_ids_are_lowercase_hex_of_w3c_length() -> None:
    with api.span("x") as s:
        assert re.fullmatch(r"[0-9a-f]{32}", s.trace_id)
        assert re.fullmatch(r"[0-9a-f]{16}", s.span_id)
        assert s.trace_id != "0" * 32 and s.span_id != "0" * 16
        assert s.is_recording
        assert "recording" in repr(s) and "'x'" in repr(s)
    assert not s.is_recording


def test_attribute_values_are_converted_and_stored(captured: Captured) -> None:
    with api.span("s", attributes={"init": "yes", "dropped": None}) as s:
        s.set_attribute("str", "v")
        s.set_attribute("int", 7)
        s.set_attribute("big", 2**70)
        s.set_attribute("float", 1.5)
        s.set_attribute("bool", True)
        s.set_attribute("ints", [1, 2, 3])
        s.set_attribute("strs", ("a", "b"))
        s.set_attribute("mixed", [1, "a", 2.5])
        s.set_attribute("obj", object)
        s.set_attribute("int", 8)  # last write wins
        s.set_attributes({"m1": 1, "m2": "two"})
    attrs = captured.by_name()["s"]["attributes"]
    assert attrs["init"] == "yes" and "dropped" not in attrs
    assert attrs["str"] == "v" and attrs["int"] == 8 and attrs["float"] == 1.5
    assert attrs["bool"] is True
    assert attrs["big"] == str(2**70)
    assert attrs["ints"] == [1, 2, 3] and attrs["strs"] == ["a", "b"]
    assert attrs["mixed"] == ["1", "a", "2.5"]
    assert attrs["obj"] == str(object)
    assert attrs["m1"] == 1 and attrs["m2"] == "two"


def test_attribute_key_must_be_str() -> None:
    with api.span("s") as s:
        with pytest.raises(TypeError):
            s.set_attribute(1, "v")
    for mapping in ({1: "v"}, MappingProxyType({"ok": 1, 2: "v"})):
        with pytest.raises(TypeError, match="keys must be str"):
            api.span("s", attributes=mapping)


def test_attributes_from_dicts_and_other_mappings(captured: Captured) -> None:
    from pyrometer import _native

    before = _native._tracer_stats()["attributes_dropped"]
    with api.span("d", attributes={"a": 1, "a2": None, "b": [1, 2]}):
        pass
    with api.span("m", attributes=MappingProxyType({"a": "x", "b": 2.5})):
        pass
    spans = captured.by_name()
    assert spans["d"]["attributes"] == {"a": 1, "b": [1, 2], "pyrometer.keep_reason": "sampled"}
    assert spans["m"]["attributes"] == {"a": "x", "b": 2.5, "pyrometer.keep_reason": "sampled"}
    assert _native._tracer_stats()["attributes_dropped"] == before + 1  # the None value


def test_events_and_status(captured: Captured) -> None:
    with api.span("ok") as s:
        s.add_event("cache.miss", {"key": "k"})
        s.set_status("ok")
        s.set_status(api.StatusCode.ERROR, "ignored: OK is final")
    with api.span("bad") as b:
        b.set_status(api.StatusCode.ERROR, "upstream 503")
    with api.span("unset") as u:
        u.set_status("error", "x")
        u.set_status(0)
    spans = captured.by_name()
    assert spans["ok"]["status_code"] == "ok"
    assert spans["ok"]["events"][0]["name"] == "cache.miss"
    assert spans["ok"]["events"][0]["attributes"] == {"key": "k"}
    assert spans["ok"]["events"][0]["time_unix_nano"] >= spans["ok"]["start_unix_nano"]
    assert spans["bad"]["status_code"] == "error"
    assert spans["bad"]["status_message"] == "upstream 503"
    assert spans["unset"]["status_code"] == "unset"
    with api.span("x") as s, pytest.raises(ValueError):
        s.set_status("broken")


def test_kinds_accept_strings_and_enum(captured: Captured) -> None:
    for kind in ("server", "client", "internal", "producer", "consumer"):
        with api.span(f"k-{kind}", kind=kind):
            pass
    with api.span("k-enum", kind=api.SpanKind.CLIENT) as s:
        assert s.kind == api.SpanKind.CLIENT
    spans = captured.drain()
    kinds = {s["name"]: s["kind"] for s in spans}
    assert kinds["k-server"] == "server" and kinds["k-consumer"] == "consumer"
    assert kinds["k-enum"] == "client"
    with pytest.raises(ValueError):
        api.span("x", kind="sideways")


def test_current_span_and_set_attribute_on_it(captured: Captured) -> None:
    assert isinstance(api.current_span(), api.NoopSpan)
    api.current_span().set_attribute("k", "v")  # no current span: silently nothing
    api.set_attribute("k", "v")
    with api.span("outer") as outer:
        assert api.current_span() is outer
        api.set_attribute("where", "outer")
        with api.span("inner") as inner:
            assert api.current_span() is inner
        assert api.current_span() is outer
    assert isinstance(api.current_span(), api.NoopSpan)
    assert captured.by_name()["outer"]["attributes"]["where"] == "outer"


def test_set_user_and_set_tag_land_on_the_local_root(captured: Captured) -> None:
    with api.span("request", kind="server"):
        with api.span("view"):
            with api.span("deep"):
                api.set_user("u-42", email="a@example.com", name="Ada")
                api.set_tag("tenant", "acme")
    spans = captured.by_name()
    root = spans["request"]["attributes"]
    assert root["enduser.id"] == "u-42"
    assert root["user.email"] == "a@example.com"
    assert root["user.name"] == "Ada"
    assert root["tenant"] == "acme"
    assert "enduser.id" not in spans["deep"]["attributes"]


def test_start_span_is_manual_and_not_current(captured: Captured) -> None:
    s = api.start_span("manual", kind="client", attributes={"a": 1})
    assert s.is_recording
    assert isinstance(api.current_span(), api.NoopSpan)
    with api.span("child", parent=s):
        pass
    s.update_name("manual-renamed")
    s.end()
    s.end()  # idempotent
    assert not s.is_recording
    spans = captured.by_name()
    assert spans["child"]["parent_span_id"] == s.span_id
    assert spans["manual-renamed"]["attributes"]["a"] == 1
    assert captured.native._tracer_stats()["end_twice"] >= 1


def test_started_span_can_be_entered_to_become_current(captured: Captured) -> None:
    s = api.start_span("manual")
    with s:
        assert api.current_span() is s
        with api.span("child"):
            pass
    spans = captured.by_name()
    assert spans["child"]["parent_span_id"] == s.span_id


def test_attach_and_detach_make_a_span_current(captured: Captured) -> None:
    s = api.start_span("req", kind="server")
    token = api.attach(s)
    with api.span("inside"):
        pass
    api.detach(token)
    assert isinstance(api.current_span(), api.NoopSpan)
    s.end()
    assert captured.by_name()["inside"]["parent_span_id"] == s.span_id


def test_span_without_pipeline_still_works_and_counts() -> None:
    from pyrometer import _native

    before = _native._tracer_stats()
    with api.span("x"):
        pass
    after = _native._tracer_stats()
    assert after["spans_started"] == before["spans_started"] + 1
    assert after["spans_ended"] == before["spans_ended"] + 1


def test_local_trace_is_bounded(captured: Captured) -> None:
    from pyrometer import _native

    before = _native._tracer_stats()["spans_over_trace_limit"]
    with api.span("root"):
        for _ in range(1005):
            with api.span("child"):
                pass
    spans = captured.drain()
    assert len(spans) == 1001  # 1000 buffered children + the root
    assert _native._tracer_stats()["spans_over_trace_limit"] == before + 5


def test_a_started_span_dropped_without_end_is_counted_not_exported(captured: Captured) -> None:
    from pyrometer import _native

    before = _native._tracer_stats()["spans_abandoned"]
    s = api.start_span("forgotten")
    del s
    assert _native._tracer_stats()["spans_abandoned"] == before + 1
    assert captured.drain() == []


def test_start_span_with_a_noop_parent_starts_a_new_trace(captured: Captured) -> None:
    s = api.start_span("root", parent=api.current_span())  # nothing current: a NoopSpan
    s.end()
    (span,) = captured.drain()
    assert span["parent_span_id"] is None
