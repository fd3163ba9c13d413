"""The /api/v1 query endpoints against a server loaded with deterministic traffic.

Every expected number is computed here from the traffic's ground truth (query_traffic.py), not
from the server; quantiles are compared within the exponential histogram's documented relative
error (docs/format/exp-histogram.md: (base-1)/(base+1) = 4.33% at scale 3).
"""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict
from typing import Any, Iterator

import pytest
from query_server import QueryServer, start_server, stop_server
from query_traffic import APDEX_T, MINUTES, NS, REL_ERROR, Traffic, build


@pytest.fixture(scope="module")
def loaded() -> Iterator[tuple[QueryServer, Traffic]]:
    traffic = build(time.time())
    server = start_server()
    try:
        for path, body in traffic.payloads:
            assert server.post(path, body) == 200
        yield server, traffic
    finally:
        stop_server(server)


def window(t: Traffic) -> dict[str, Any]:
    return {"since": t.base_ns, "until": t.until_ns}


def exact_quantile(values: list[float], q: float) -> float:
    v = sorted(values)
    rank = max(1, math.ceil(q * len(v)))
    return v[rank - 1]


def assert_quantiles(row: dict[str, Any], durations: list[float], what: str) -> None:
    for q, key in ((0.5, "p50_ms"), (0.95, "p95_ms"), (0.99, "p99_ms")):
        want = exact_quantile(durations, q)
        got = row[key] / 1000
        assert abs(got - want) / want <= REL_ERROR + 1e-9, f"{what} {key}: {got} vs {want}"


def expected_apdex(reqs: list[Any]) -> float:
    ok = [r.duration_s for r in reqs if not r.error]
    sat = sum(1 for d in ok if d <= APDEX_T)
    tol = sum(1 for d in ok if APDEX_T < d <= 4 * APDEX_T)
    return (sat + tol / 2) / len(reqs)


def assert_red(row: dict[str, Any], reqs: list[Any], what: str) -> None:
    seconds = MINUTES * 60
    assert row["requests"] == len(reqs), what
    errors = sum(r.error for r in reqs)
    assert row["errors"] == errors, what
    assert row["error_rate"] == pytest.approx(errors / len(reqs)), what
    assert row["rps"] == pytest.approx(len(reqs) / seconds), what
    assert row["apdex"] == pytest.approx(expected_apdex(reqs)), what
    assert row["apdex_threshold_ms"] == 500
    assert_quantiles(row, [r.duration_s for r in reqs], what)


def test_services_golden_signals(loaded: tuple[QueryServer, Traffic]) -> None:
    server, t = loaded
    body = server.get("/api/v1/services", window(t))
    rows = {r["service"]: r for r in body["items"]}
    assert set(rows) == {"gateway", "auth", "worker"}
    assert body["total"] == 3 and body["next_cursor"] is None
    for service in ("gateway", "auth"):
        # auth's spans are sampled (30%): its numbers must still cover every request.
        assert_red(rows[service], [r for r in t.requests if r.service == service], service)
    worker = rows["worker"]
    assert worker["requests"] == len(t.tasks)
    assert worker["errors"] == sum(x["failed"] for x in t.tasks)
    assert rows["auth"]["instances"] == 2
    assert rows["auth"]["cpu_cores"] == pytest.approx(sum(v["cpu"] for v in t.runtime.values()))
    assert rows["auth"]["rss_bytes"] == pytest.approx(sum(v["rss"] for v in t.runtime.values()))
    assert rows["gateway"]["instances"] == 0 and rows["gateway"]["cpu_cores"] is None


def test_services_single_service_and_apdex_threshold(loaded: tuple[QueryServer, Traffic]) -> None:
    server, t = loaded
    body = server.get("/api/v1/services", {**window(t), "service": "auth", "apdex_t": 200})
    assert [r["service"] for r in body["items"]] == ["auth"]
    reqs = [r for r in t.requests if r.service == "auth"]
    ok = [r.duration_s for r in reqs if not r.error]
    # 0.2 s and 0.8 s are bucket edges only by accident: allow one bucket's worth of slack.
    sat = sum(1 for d in ok if d <= 0.2)
    tol = sum(1 for d in ok if 0.2 < d <= 0.8)
    slack = sum(1 for d in ok if abs(d - 0.2) / 0.2 < REL_ERROR or abs(d - 0.8) / 0.8 < REL_ERROR)
    assert abs(body["items"][0]["apdex"] - (sat + tol / 2) / len(reqs)) <= slack / len(reqs) + 1e-9
    assert body["items"][0]["apdex_threshold_ms"] == 200


def test_endpoints_sorted_by_impact_and_columns(loaded: tuple[QueryServer, Traffic]) -> None:
    server, t = loaded
    body = server.get("/api/v1/services/gateway/endpoints", window(t))
    rows = body["items"]
    by_route = defaultdict(list)
    for r in t.requests:
        if r.service == "gateway":
            by_route[r.route].append(r)
    assert {r["endpoint"] for r in rows} == set(by_route)
    for row in rows:
        assert_red(row, by_route[row["endpoint"]], row["endpoint"])
        assert row["impact"] == pytest.approx(row["rps"] * row["p95_ms"] / 1000)
    impacts = [r["impact"] for r in rows]
    assert impacts == sorted(impacts, reverse=True)
    by_rps = server.get("/api/v1/services/gateway/endpoints", {**window(t), "sort": "rps"})
    counts = [len(by_route[r["endpoint"]]) for r in by_rps["items"]]
    assert counts == sorted(counts, reverse=True)
    err = server.get("/api/v1/services/gateway/endpoints", {"sort": "bogus"}, expect=400)
    assert "sort must be one of" in err["error"]


def test_paging_walks_every_item_once(loaded: tuple[QueryServer, Traffic]) -> None:
    server, t = loaded
    seen: list[str] = []
    params: dict[str, Any] = {**window(t), "limit": 2}
    while True:
        body = server.get("/api/v1/services", params)
        seen += [r["service"] for r in body["items"]]
        if body["next_cursor"] is None:
            break
        params["cursor"] = body["next_cursor"]
    assert sorted(seen) == ["auth", "gateway", "worker"]


def test_timeseries_points_aligned_to_step(loaded: tuple[QueryServer, Traffic]) -> None:
    server, t = loaded
    body = server.get(
        "/api/v1/timeseries", {**window(t), "service": "gateway", "metric": "rps", "step": "1m"}
    )
    points = body["points"]
    assert [p["time_unix_nano"] for p in points] == [
        t.base_ns + i * 60 * NS for i in range(MINUTES)
    ]
    per_minute = Counter((r.start_ns - t.base_ns) // (60 * NS) for r in t.requests
                         if r.service == "gateway")  # fmt: skip
    assert [p["value"] for p in points] == pytest.approx([per_minute[i] / 60 for i in range(10)])

    body = server.get(
        "/api/v1/timeseries",
        {**window(t), "service": "auth", "endpoint": "/login", "metric": "p95", "step": "5m"},
    )
    step = 300 * NS
    first = t.base_ns // step * step  # points align to the step, not to `since`
    assert [p["time_unix_nano"] for p in body["points"]] == [
        first + i * step for i in range(len(body["points"]))
    ]
    assert body["points"][-1]["time_unix_nano"] < t.until_ns <= first + len(body["points"]) * step
    for p in body["points"]:
        lo = p["time_unix_nano"]
        durs = [
            r.duration_s
            for r in t.requests
            if r.service == "auth" and r.route == "/login" and lo <= r.start_ns < lo + step
        ]
        want = exact_quantile(durs, 0.95)
        assert abs(p["value"] / 1000 - want) / want <= REL_ERROR + 1e-9

    body = server.get("/api/v1/timeseries", {**window(t), "service": "gateway",
                                             "metric": "error_rate", "step": "5m"})  # fmt: skip
    for p in body["points"]:
        lo = p["time_unix_nano"]
        gw = [r for r in t.requests if r.service == "gateway" and lo <= r.start_ns < lo + step]
        assert p["value"] == pytest.approx(sum(r.error for r in gw) / len(gw))


def test_timeseries_runtime_and_queue(loaded: tuple[QueryServer, Traffic]) -> None:
    server, t = loaded
    rss = server.get("/api/v1/timeseries", {**window(t), "service": "auth", "metric": "rss",
                                            "step": "1m"})  # fmt: skip
    assert rss["points"][-1]["value"] == pytest.approx(sum(v["rss"] for v in t.runtime.values()))
    cpu = server.get("/api/v1/timeseries", {**window(t), "service": "auth", "metric": "cpu",
                                            "step": "1m"})  # fmt: skip
    # The delta CPU seconds of both instances fall in the last minute.
    cpu_seconds = sum(v["cpu"] * 10 for v in t.runtime.values())
    assert cpu["points"][-1]["value"] == pytest.approx(cpu_seconds / 60)
    assert all(p["value"] is None for p in cpu["points"][:-1])
    q = server.get("/api/v1/timeseries", {**window(t), "service": "worker",
                                          "metric": "queue_depth", "step": "1m"})  # fmt: skip
    assert [p["value"] for p in q["points"]] == [d for _, _, d in t.queue_depths]


def test_timeseries_rejects_bad_input(loaded: tuple[QueryServer, Traffic]) -> None:
    server, _ = loaded
    assert "metric must be one of" in server.get("/api/v1/timeseries", {"metric": "x"},
                                                 expect=400)["error"]  # fmt: skip
    assert "whole number of minutes" in server.get(
        "/api/v1/timeseries", {"metric": "rps", "step": "90s"}, expect=400)["error"]  # fmt: skip
    assert "step" in server.get("/api/v1/timeseries", {"metric": "rps", "step": "often"},
                                expect=400)["error"]  # fmt: skip


@pytest.mark.parametrize(
    "params, message",
    [
        ({"since": "yesterday"}, "since:"),
        ({"until": "2020-13-01T00:00:00Z"}, "until:"),
        ({"since": "-1h", "until": "-2h"}, "must be before"),
        ({"limit": "0"}, "limit must be"),
        ({"cursor": "forged"}, "cursor"),
    ],
)
def test_list_parameters_are_validated(loaded: tuple[QueryServer, Traffic],
                                       params: dict[str, str], message: str) -> None:  # fmt: skip
    server, _ = loaded
    for path in ("/api/v1/services", "/api/v1/traces", "/api/v1/errors", "/api/v1/queries"):
        assert message in server.get(path, params, expect=400)["error"], path


def trace_summary(t: Traffic, tid: bytes) -> dict[str, Any]:
    spans = t.traces[tid]
    root = next((s for _, s in spans if not s.parent_span_id), None)
    return {
        "services": sorted({svc for svc, _ in spans}),
        "span_count": len(spans),
        "error": any(s.status.code == 2 for _, s in spans),
        "root": root,
    }


def search(server: QueryServer, params: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    params = {**params, "limit": 40}
    while True:
        body = server.get("/api/v1/traces", params)
        out += body["items"]
        if body["next_cursor"] is None:
            return out
        params["cursor"] = body["next_cursor"]


def test_trace_search_filters(loaded: tuple[QueryServer, Traffic]) -> None:
    server, t = loaded
    sent = {tid for tid, spans in t.traces.items()}
    auth_errors = {tid for tid in sent if any(svc == "auth" for svc, _ in t.traces[tid])
                   and trace_summary(t, tid)["error"]}  # fmt: skip
    got = search(server, {**window(t), "service": "auth", "status": "error"})
    assert {bytes.fromhex(r["trace_id"]) for r in got} == auth_errors
    assert len(got) == len(auth_errors)  # paging returned each once
    starts = [r["start_unix_nano"] for r in got]
    assert starts == sorted(starts, reverse=True)
    for r in got:
        want = trace_summary(t, bytes.fromhex(r["trace_id"]))
        assert sorted(r["services"]) == want["services"]
        assert r["span_count"] == want["span_count"]
        assert r["error"] is True
        assert r["root_name"] == want["root"].name
        assert r["duration_ms"] == pytest.approx(
            (want["root"].end_time_unix_nano - want["root"].start_time_unix_nano) / 1e6
        )

    http500 = {tid for tid in sent if any(
        kv.key == "http.response.status_code" and kv.value.int_value == 500
        for _, s in t.traces[tid] for kv in s.attributes)}  # fmt: skip
    got = search(server, {**window(t), "attr.http.response.status_code": "500"})
    assert {bytes.fromhex(r["trace_id"]) for r in got} == http500

    slow = {r.trace_id for r in t.requests if r.service == "gateway" and r.duration_s >= 1.0}
    got = search(server, {**window(t), "service": "gateway", "min_duration_ms": 1000})
    assert {bytes.fromhex(r["trace_id"]) for r in got} == slow

    login = {r.trace_id for r in t.requests if r.route == "/login" and r.sent}
    got = search(server, {**window(t), "service": "auth", "endpoint": "/login"})
    assert {bytes.fromhex(r["trace_id"]) for r in got} == login
    assert {r["keep_reason"] for r in got} == {"sampled", "error"}

    got = search(server, {**window(t), "insight": "n_plus_one"})
    assert t.span_insights
    assert {bytes.fromhex(r["trace_id"]) for r in got} == set(t.span_insights)
    assert all(r["insights"] == ["n_plus_one"] for r in got)


def test_errors_grouped_by_type_and_in_app_frames(loaded: tuple[QueryServer, Traffic]) -> None:
    server, t = loaded
    body = server.get("/api/v1/errors", {**window(t), "service": "auth"})
    want = Counter((e["type"], e["route"]) for e in t.exceptions)
    got = {(r["type"], tuple(r["endpoints"])): r for r in body["items"]}
    # Messages and line numbers differ within a group; they must not split it.
    assert {(k[0], k[1][0]) for k in got} == set(want)
    for (etype, endpoints), row in got.items():
        assert row["count"] == want[(etype, endpoints[0])]
        last = max((e for e in t.exceptions if e["type"] == etype and e["route"] == endpoints[0]),
                   key=lambda e: 0)  # fmt: skip
        assert last["type"] == row["type"]
        assert len(row["fingerprint"]) == 16
        assert [f["function"] for f in row["last_frames"] if f["in_app"]][-1] == last["handler"]
    counts = [r["count"] for r in body["items"]]
    assert counts == sorted(counts, reverse=True)
    again = server.get("/api/v1/errors", {**window(t), "service": "auth"})
    assert [r["fingerprint"] for r in again["items"]] == [r["fingerprint"] for r in body["items"]]


def test_queries_by_fingerprint(loaded: tuple[QueryServer, Traffic]) -> None:
    server, t = loaded
    body = server.get("/api/v1/queries", {**window(t), "service": "auth"})
    rows = {r["fingerprint"]: r for r in body["items"]}
    groups = defaultdict(list)
    for c in t.db_calls:
        groups[c["fingerprint"]].append(c)
    assert set(rows) == set(groups)
    for fp, calls in groups.items():
        row = rows[fp]
        durs = [int(c["duration"] * NS) / NS for c in calls]
        assert row["calls"] == len(calls)
        assert row["text"] == calls[0]["text"]
        assert row["db_system"] == "postgresql"
        assert row["total_ms"] == pytest.approx(sum(durs) * 1000)
        assert row["mean_ms"] == pytest.approx(sum(durs) * 1000 / len(durs))
        want = exact_quantile(durs, 0.95)
        assert abs(row["p95_ms"] / 1000 - want) / want <= REL_ERROR + 1e-9
        assert row["rows"] == len(calls)
        assert set(row["callers"]) == {c["route"] for c in calls}
        slowest = max(calls, key=lambda c: c["duration"])
        assert bytes.fromhex(row["example_trace_id"]) == slowest["trace_id"]
    totals = [r["total_ms"] for r in body["items"]]
    assert totals == sorted(totals, reverse=True)


def test_insights_grouped_by_fingerprint(loaded: tuple[QueryServer, Traffic]) -> None:
    server, t = loaded
    body = server.get("/api/v1/insights", window(t))
    want = defaultdict(list)
    for i in t.insights:
        want[i["fingerprint"]].append(i)
    assert [r["fingerprint"] for r in body["items"]] == ["fp-nplus1", "fp-slowq"]  # high first
    for row in body["items"]:
        recs = want[row["fingerprint"]]
        assert row["count"] == len(recs)
        assert row["kind"] == recs[0]["kind"] and row["severity"] == recs[0]["severity"]
        assert row["location"] == {"file": recs[0]["file"], "line": recs[0]["line"],
                                   "function": recs[0]["function"]}  # fmt: skip
        assert {bytes.fromhex(x) for x in row["example_trace_ids"]} <= {r["trace_id"] for r in recs}
        assert row["example_trace_ids"][0] == max(recs, key=lambda r: r["time"])["trace_id"].hex()
    high = server.get("/api/v1/insights", {**window(t), "severity": "high"})
    assert [r["fingerprint"] for r in high["items"]] == ["fp-nplus1"]


def test_tasks(loaded: tuple[QueryServer, Traffic]) -> None:
    server, t = loaded
    body = server.get("/api/v1/tasks", window(t))
    rows = {r["task"]: r for r in body["items"]}
    for task in {x["task"] for x in t.tasks}:
        runs = [x for x in t.tasks if x["task"] == task]
        row = rows[task]
        assert row["runs"] == len(runs)
        assert row["failures"] == sum(x["failed"] for x in runs)
        assert row["retries"] == sum(x["retried"] for x in runs)
        assert row["rate"] == pytest.approx(len(runs) / (MINUTES * 60))
        want = exact_quantile([x["duration"] for x in runs], 0.5)
        assert abs(row["p50_ms"] / 1000 - want) / want <= REL_ERROR + 1e-9
        assert row["queue_depth"] == t.queue_depths[-1][2]
    assert body["queues"] == [{"queue": "default", "depth": t.queue_depths[-1][2],
                               "time": body["queues"][0]["time"]}]  # fmt: skip


def test_runtime_per_instance(loaded: tuple[QueryServer, Traffic]) -> None:
    server, t = loaded
    body = server.get("/api/v1/runtime", {**window(t), "service": "auth"})
    rows = {r["instance"]: r for r in body["items"]}
    assert set(rows) == set(t.runtime)
    for instance, want in t.runtime.items():
        assert rows[instance]["rss_bytes"] == pytest.approx(want["rss"])
        assert rows[instance]["cpu_cores"] == pytest.approx(want["cpu"])
