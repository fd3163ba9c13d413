"""Configuration reaches the wire: `pyrometer run` with env settings, read back from a real OTLP
receiver (opentelemetry-proto): service, environment, resource attributes, headers and token.
"""

from __future__ import annotations

import os
import subprocess
import sys

APP = "import pyrometer\nwith pyrometer.span('job'):\n    pass\nprint('done')\n"


def _run(receiver, tmp_path, *extra: str, **env: str) -> subprocess.CompletedProcess:
    full = {
        **os.environ,
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "PYROMETER_EXPORT_INTERVAL": "200ms",
        **env,
    }
    cmd = [sys.executable, "-m", "pyrometer", "run", *extra, "--", sys.executable, "-c", APP]
    return subprocess.run(cmd, env=full, cwd=tmp_path, capture_output=True, text=True, timeout=60)


def test_settings_are_exported_with_the_spans(otlp_receiver, tmp_path):
    result = _run(
        otlp_receiver,
        tmp_path,
        "--service",
        "billing",
        PYROMETER_ENVIRONMENT="staging",
        OTEL_RESOURCE_ATTRIBUTES="team=core%2Cpay",
        OTEL_EXPORTER_OTLP_HEADERS="x-tenant=acme",
        PYROMETER_TOKEN="tok123",
    )
    assert result.returncode == 0 and result.stdout == "done\n", result.stderr
    # The agent flushes before the process exits, so the span is already here.
    spans = otlp_receiver.spans()
    assert [s.name for _, s in spans] == ["job"]
    resource = spans[0][0]
    assert resource["service.name"] == "billing"
    assert resource["deployment.environment.name"] == "staging"
    assert resource["team"] == "core,pay"
    trace_requests = [r for r in otlp_receiver.requests if r.path == "/v1/traces"]
    headers = {k.lower(): v for k, v in trace_requests[0].headers.items()}
    assert headers["authorization"] == "Bearer tok123"
    assert headers["x-tenant"] == "acme"


def test_toml_service_name_is_used(otlp_receiver, tmp_path):
    (tmp_path / "pyrometer.toml").write_text('service_name = "from-toml"\n')
    result = _run(otlp_receiver, tmp_path)
    assert result.returncode == 0, result.stderr
    assert {res["service.name"] for res, _ in otlp_receiver.spans()} == {"from-toml"}


def test_disabled_sends_nothing(otlp_receiver, tmp_path):
    result = _run(otlp_receiver, tmp_path, PYROMETER_ENABLED="false")
    assert result.returncode == 0 and result.stdout == "done\n", result.stderr
    assert otlp_receiver.requests == []
