"""Head sampling (OTEL_TRACES_SAMPLER values, ratio by trace id, parent-based) and local tail
keep (error, insight) with the keep reason recorded on the local root."""

from __future__ import annotations

import pytest
import tracer_fixtures
from tracer_fixtures import Captured

from pyrometer import api

captured = tracer_fixtures.captured  # the fixture, used by name


def _remote(trace_id: str, sampled: bool) -> dict[str, str]:
    return {"traceparent": f"00-{trace_id}-00f067aa0ba902b7-{'01' if sampled else '00'}"}


def test_always_off_drops_a_healthy_trace(captured: Captured) -> None:
    captured.configure("always_off")
    with api.span("root") as root:
        with api.span("child"):
            pass
    assert not root.sampled
    assert captured.drain() == []


def test_always_off_keeps_a_trace_with_an_error(captured: Captured) -> None:
    captured.configure("always_off")
    with api.span("root"):
        with api.span("ok"):
            pass
        with pytest.raises(RuntimeError), api.span("db"):
            raise RuntimeError("connection reset")
    spans = captured.by_name()
    assert set(spans) == {"root", "ok", "db"}  # the whole local trace, not just the error
    assert spans["root"]["attributes"]["pyrometer.keep_reason"] == "error"
    assert spans["db"]["status_code"] == "error"
    assert spans["root"]["trace_flags"] & 1 == 0  # head decision stays "not sampled"


def test_insight_attribute_or_event_keeps_the_trace(captured: Captured) -> None:
    captured.configure("always_off")
    with api.span("r1"):
        with api.span("q") as q:
            q.set_attribute("pyrometer.insight", "n_plus_one")
    with api.span("r2"):
        api.current_span().add_event("pyrometer.insight", {"kind": "slow_query"})
    spans = captured.by_name()
    assert spans["r1"]["attributes"]["pyrometer.keep_reason"] == "insight"
    assert spans["r2"]["attributes"]["pyrometer.keep_reason"] == "insight"


def test_sampled_trace_records_reason_sampled(captured: Captured) -> None:
    with api.span("root"):
        pass
    (root,) = captured.drain()
    assert root["attributes"]["pyrometer.keep_reason"] == "sampled"
    assert root["trace_flags"] & 1 == 1


def test_tail_keep_off_drops_errors_of_unsampled_traces(captured: Captured) -> None:
    captured.configure("always_off", tail_keep=False)
    with pytest.raises(ValueError), api.span("root"):
        raise ValueError("x")
    assert captured.drain() == []


def test_incoming_unsampled_parent_is_honoured_unless_error(captured: Captured) -> None:
    tid = "4bf92f3577b34da6a3ce929d0e0e4736"
    with api.start_server_span("GET /a", _remote(tid, sampled=False)) as s:
        assert not s.sampled
    assert captured.drain() == []
    with pytest.raises(KeyError), api.start_server_span("GET /b", _remote(tid, sampled=False)):
        raise KeyError("k")
    (span,) = captured.drain()
    assert span["trace_id"] == tid
    assert span["attributes"]["pyrometer.keep_reason"] == "error"


def test_incoming_sampled_parent_is_kept_even_with_always_off_root_policy(
    captured: Captured,
) -> None:
    captured.configure("parentbased_always_off")
    tid = "0af7651916cd43dd8448eb211c80319c"
    with api.start_server_span("GET /c", _remote(tid, sampled=True)) as s:
        assert s.sampled
    with api.span("local-root"):
        pass
    names = [s["name"] for s in captured.drain()]
    assert names == ["GET /c"]


def _otel_decision(trace_id_hex: str, ratio: float) -> bool:
    """What the OpenTelemetry SDK's TraceIdRatioBased decides for this trace id."""
    from opentelemetry.sdk.trace.sampling import Decision, TraceIdRatioBased

    result = TraceIdRatioBased(ratio).should_sample(None, int(trace_id_hex, 16), "x")
    return result.decision == Decision.RECORD_AND_SAMPLE


def test_ratio_is_deterministic_per_trace_id_and_matches_otel(captured: Captured) -> None:
    captured.configure("traceidratio", "0.5")  # not parent-based: decides on the trace id alone
    ids = [f"{i:016x}{(i * 0x9E3779B97F4A7C15) % 2**64:016x}" for i in range(1, 41)]
    decisions = []
    for tid in ids:
        first = api.start_span("a", parent=api.extract(_remote(tid, sampled=True)))
        second = api.start_span("b", parent=api.extract(_remote(tid, sampled=False)))
        assert first.sampled == second.sampled  # same id, same answer, parent flag ignored
        assert first.sampled == _otel_decision(tid, 0.5)
        decisions.append(first.sampled)
        first.end()
        second.end()
    assert 5 < sum(decisions) < 35  # both outcomes occur


def test_bad_sampler_config_gives_a_warning_and_a_usable_default(captured: Captured) -> None:
    warning = captured.configure("sometimes")
    assert "OTEL_TRACES_SAMPLER" in warning
    with api.span("x") as s:
        assert s.sampled  # parentbased_always_on
    warning = captured.configure("traceidratio", "2")
    assert "OTEL_TRACES_SAMPLER_ARG" in warning
    assert captured.configure("traceidratio", "0.25") is None


def test_start_reads_sampler_from_config_and_starts_the_pipeline(
    captured: Captured, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pyrometer import _native, config

    started: list[object] = []
    monkeypatch.setattr(_native, "start_pipeline", started.append, raising=False)
    cfg = config.load(env={"OTEL_TRACES_SAMPLER": "always_off"})
    api._start(cfg)
    assert started == [cfg]  # the pipeline gets the same Config (no network in this test)
    with api.span("x") as s:
        assert not s.sampled
    api._start(config.load(env={}))
    with api.span("y") as s:
        assert s.sampled
