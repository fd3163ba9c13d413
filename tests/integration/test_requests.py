"""requests integration: client span, traceparent out, one span over urllib3, errors."""

from __future__ import annotations

from typing import Iterator

import pytest
import requests
from http_client_checks import check_call, check_error_status, check_refused
from services import free_port
from spans import Capture

from pyrometer import api
from pyrometer.integrations import requests as requests_integration
from pyrometer.integrations import urllib3 as urllib3_integration

pytestmark = pytest.mark.usefixtures("clean_integrations")


@pytest.fixture
def patched() -> Iterator[None]:
    urllib3_integration.patch()  # both layers patched: requests' span must be the only one
    requests_integration.patch()
    try:
        yield
    finally:
        requests_integration.unpatch()
        urllib3_integration.unpatch()


def test_get(patched: None, capture: Capture, echo_server: str) -> None:
    with api.span("job"):
        echoed = requests.get(echo_server + "/echo?q=1").json()
    check_call(capture, echoed, echo_server, "/echo?q=1")


def test_redirects_are_one_span(patched: None, capture: Capture, echo_server: str) -> None:
    with api.span("job"):
        r = requests.get(echo_server + "/redirect")
    assert r.json()["path"] == "/echo" and r.history[0].status_code == 302
    assert sorted(s.name for s in capture.wait(2)) == ["GET", "job"]


def test_error_status(patched: None, capture: Capture, echo_server: str) -> None:
    with api.span("job"):
        assert requests.get(echo_server + "/status/503").status_code == 503
    check_error_status(capture)


def test_connection_refused(patched: None, capture: Capture) -> None:
    with api.span("job"):
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{free_port()}/", timeout=5)
    check_refused(capture, "ConnectionError")


def test_secrets_in_url_are_redacted(patched: None, capture: Capture, echo_server: str) -> None:
    url = echo_server.replace("http://", "http://bob:pw@") + "/echo?api_key=abc&page=2"
    with api.span("job"):
        requests.get(url)
    client = capture.one("GET", capture.wait(2))
    full = client.attributes["url.full"]
    assert "pw" not in full and "abc" not in full and "page=2" in full


def test_transparent(echo_server: str, capture: Capture) -> None:
    def scenario() -> list[object]:
        r = requests.get(echo_server + "/status/404")
        headers = requests.get(echo_server + "/echo", headers={"X-A": "1"}).json()["headers"]
        headers.pop("traceparent", None)  # the one intended difference
        try:
            requests.get(f"http://127.0.0.1:{free_port()}/", timeout=5)
        except requests.ConnectionError as e:
            err: object = type(e)
        return [r.status_code, r.text, headers, err]

    plain = scenario()
    requests_integration.patch()
    try:
        traced = scenario()
    finally:
        requests_integration.unpatch()
    assert traced == plain
