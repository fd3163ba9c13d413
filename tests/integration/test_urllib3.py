"""urllib3 integration: client span, traceparent out without touching the caller's headers."""

from __future__ import annotations

import json
from typing import Iterator

import pytest
import urllib3
from http_client_checks import check_call, check_error_status, check_refused
from services import free_port
from spans import Capture

from pyrometer import api
from pyrometer.integrations import urllib3 as urllib3_integration

pytestmark = pytest.mark.usefixtures("clean_integrations")


@pytest.fixture
def patched() -> Iterator[None]:
    urllib3_integration.patch()
    try:
        yield
    finally:
        urllib3_integration.unpatch()


def test_get(patched: None, capture: Capture, echo_server: str) -> None:
    headers = {"X-Mine": "1"}
    with api.span("job"):
        r = urllib3.PoolManager().request("GET", echo_server + "/echo", headers=headers)
    assert headers == {"X-Mine": "1"}  # the caller's dict is not modified
    echoed = json.loads(r.data)
    assert echoed["headers"]["x-mine"] == "1"
    check_call(capture, echoed, echo_server, "/echo")


def test_error_status(patched: None, capture: Capture, echo_server: str) -> None:
    with api.span("job"):
        assert urllib3.request("GET", echo_server + "/status/503").status == 503
    check_error_status(capture)


def test_connection_refused(patched: None, capture: Capture) -> None:
    with api.span("job"):
        with pytest.raises(urllib3.exceptions.MaxRetryError):
            urllib3.request("GET", f"http://127.0.0.1:{free_port()}/", retries=1)
    check_refused(capture, "MaxRetryError")
