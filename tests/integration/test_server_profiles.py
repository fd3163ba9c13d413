"""pprof uploads: a gzipped profile with labels is stored; garbage and bad labels are refused."""

from __future__ import annotations

import gzip

import requests
from pyrometer_server import PyrometerServer


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(tag: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field."""
    return _varint(tag << 3 | 2) + _varint(len(payload)) + payload


def _uint(tag: int, n: int) -> bytes:
    return _varint(tag << 3) + _varint(n)


def cpu_profile() -> bytes:
    """A minimal perftools.profiles.Profile: one function, one location, one sample."""
    strings = ["", "cpu", "nanoseconds", "handler", "app.py", "samples", "count"]
    sample_type = _field(1, _uint(1, 1) + _uint(2, 2))
    function = _field(5, _uint(1, 1) + _uint(2, 3) + _uint(4, 4))
    location = _field(4, _uint(1, 1) + _field(4, _uint(1, 1) + _uint(2, 12)))
    sample = _field(2, _field(1, _varint(1)) + _field(2, _varint(10_000_000)))
    table = b"".join(_field(6, s.encode()) for s in strings)
    period_type = _field(11, _uint(1, 1) + _uint(2, 2))
    return sample_type + sample + location + function + table + period_type + _uint(12, 10_000_000)


def test_gzipped_pprof_with_labels_is_accepted(pyrometer_server: PyrometerServer) -> None:
    params = {
        "service": "api",
        "instance": "host-1",
        "route": "/users/{id}",
        "type": "cpu",
        "time": "1700000000000000000",
    }
    resp = requests.post(
        pyrometer_server.url + "/v1/profiles",
        params=params,
        data=gzip.compress(cpu_profile()),
        timeout=10,
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["accepted"] == 1
    plain = requests.post(
        pyrometer_server.url + "/v1/profiles",
        params={"service": "api", "type": "wall"},
        data=cpu_profile(),
        timeout=10,
    )
    assert plain.status_code == 200, plain.text
    text = requests.get(pyrometer_server.url + "/metrics", timeout=5).text
    assert 'pyrometer_server_ingest_items_accepted_total{signal="profiles"} 2' in text


def test_garbage_and_bad_labels_are_400(pyrometer_server: PyrometerServer) -> None:
    url = pyrometer_server.url + "/v1/profiles"
    cases = [
        ({"service": "api"}, b"this is not a profile at all"),
        ({"service": "api"}, gzip.compress(b"\xff\xff\xff\xff garbage")),
        ({"service": "api"}, b"\x1f\x8b broken gzip"),
        ({"type": "cpu"}, gzip.compress(cpu_profile())),  # no service
        ({"service": "api", "type": "gpu"}, gzip.compress(cpu_profile())),
        ({"service": "api", "time": "yesterday"}, gzip.compress(cpu_profile())),
    ]
    for params, body in cases:
        resp = requests.post(url, params=params, data=body, timeout=10)
        assert resp.status_code == 400, (params, resp.text)
        assert resp.json()["message"]
    assert requests.get(pyrometer_server.url + "/healthz", timeout=5).status_code == 200
