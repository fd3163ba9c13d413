"""Raw-span query endpoints answer the same from blocks as from the head.

The server is loaded with the deterministic query traffic, every span-scanning endpoint is
asked a set of questions, then the server is stopped (SIGTERM flushes the head into a block,
written in the version-2 block layout: time segments, page index, span classes) and restarted
on the same data directory, and every answer must be identical.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from query_server import QueryServer, server_binary, start_server, stop_server
from query_traffic import Traffic, build


def restart(server: QueryServer) -> QueryServer:
    """Stops `server` gracefully (head flushed to blocks) and starts it again on its data."""
    server.proc.terminate()
    assert server.proc.wait(timeout=60) == 0
    proc = subprocess.Popen(
        [server_binary(), "--data", server.data_dir, "--listen", "127.0.0.1:0", "--threads", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    line = ""
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if "listening on http://" in line or not line:
            break
    if "listening on http://" not in line:
        proc.kill()
        raise RuntimeError(f"pyrometer-server did not restart: {line}")
    port = int(line.split("listening on ")[1].split()[0].rsplit(":", 1)[1])
    return QueryServer(
        base=f"http://127.0.0.1:{port}", port=port, data_dir=server.data_dir, proc=proc
    )


def questions(t: Traffic) -> list[tuple[str, dict[str, Any]]]:
    w: dict[str, Any] = {"since": t.base_ns, "until": t.until_ns}
    some = sorted(t.traces)[:5]
    half = t.base_ns + (t.until_ns - t.base_ns) // 2
    return [
        ("/api/v1/traces", {**w, "limit": 1000}),
        ("/api/v1/traces", {**w, "service": "auth", "status": "error", "limit": 1000}),
        ("/api/v1/traces", {**w, "status": "error", "limit": 7}),
        ("/api/v1/traces", {**w, "status": "ok", "service": "gateway", "limit": 1000}),
        ("/api/v1/traces", {**w, "service": "gateway", "min_duration_ms": 1000}),
        ("/api/v1/traces", {**w, "service": "auth", "endpoint": "/login", "limit": 1000}),
        ("/api/v1/traces", {**w, "attr.http.response.status_code": "500", "limit": 1000}),
        ("/api/v1/traces", {**w, "insight": "n_plus_one", "limit": 1000}),
        ("/api/v1/traces", {"since": half, "until": t.until_ns, "status": "error"}),
        ("/api/v1/errors", w),
        ("/api/v1/errors", {**w, "service": "auth"}),
        ("/api/v1/errors", {"since": half, "until": t.until_ns}),
        ("/api/v1/queries", w),
        ("/api/v1/queries", {**w, "service": "auth", "sort": "p95"}),
        ("/api/v1/queries", {"since": half, "until": t.until_ns, "sort": "calls"}),
        ("/api/v1/tasks", w),
        *[("/api/v1/traces/" + tid.hex(), {}) for tid in some],
    ]


Answers = tuple[list[Any], list[Any], str]


@pytest.fixture(scope="module")
def answers() -> Iterator[Answers]:
    traffic = build(time.time())
    server = start_server()
    try:
        for path, body in traffic.payloads:
            assert server.post(path, body) == 200
        asked = questions(traffic)
        from_head = [server.get(path, params) for path, params in asked]
        server = restart(server)
        from_blocks = [server.get(path, params) for path, params in asked]
        yield from_head, from_blocks, server.data_dir
    finally:
        stop_server(server)
        shutil.rmtree(server.data_dir, ignore_errors=True)


def test_data_is_in_blocks_after_restart(answers: Answers) -> None:
    from_head, _, data_dir = answers
    metas = list(Path(data_dir, "blocks").glob("*/meta"))
    assert metas, "the head was not flushed into a block"
    for meta in metas:
        assert meta.read_bytes()[4:6] == b"\x02\x00"  # block format version 2
        assert (meta.parent / "spans.page_index").is_file()
    # The searches found something, so the comparison below is not vacuous.
    assert from_head[0]["items"] and from_head[1]["items"] and from_head[9]["items"]
    assert from_head[12]["items"]


def same(a: Any, b: Any) -> bool:
    """Equal, except floats may differ in the last bits: sums of durations (total_ms) are
    added in scan order, which differs between the head (arrival) and blocks (time)."""
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, (int, float)) and b == pytest.approx(a, rel=1e-12)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return bool(a == b)


def test_every_answer_is_identical_from_blocks(answers: Answers) -> None:
    from_head, from_blocks, _ = answers
    for i, (a, b) in enumerate(zip(from_head, from_blocks)):
        assert same(a, b), f"question {i} differs: {a} != {b}"
