"""pyrometer.auto.install() and the `pyrometer` logger: idempotent start, agent start-up failures
reported once and never raised, PYROMETER_DEBUG sending the logger to stderr.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import types

import pytest

from pyrometer import _importhook, _logging, config
from pyrometer.config import load

# Importing pyrometer.auto installs; do it once here, then reset its state per test.
sys.modules.pop("pyrometer.auto", None)


@pytest.fixture
def auto(monkeypatch):
    fake_api = types.ModuleType("pyrometer.api")
    fake_api.started = []  # type: ignore[attr-defined]
    fake_api._start = fake_api.started.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pyrometer.api", fake_api)
    monkeypatch.setenv("PYROMETER_ENABLED", "false")  # the import-time install() does nothing
    monkeypatch.setattr(config, "_current", None)  # and its cached config is dropped afterwards
    from pyrometer import auto as module

    monkeypatch.setattr(module, "_state", {"installed": False, "agent_started": False})
    yield module, fake_api
    _importhook.uninstall()


def test_install_starts_agent_once_and_installs_hook(auto):
    module, api = auto
    cfg = load(env={})
    assert module.install(cfg) is True
    assert module.install(cfg) is True
    assert api.started == [cfg]
    assert any(type(f).__name__ == "_PatchingFinder" for f in sys.meta_path)


def test_uninstall_stops_agent_and_removes_hook(auto):
    module, api = auto
    api.stopped = []
    api._shutdown = lambda: api.stopped.append(True)
    module.install(load(env={}))
    module.uninstall()
    module.uninstall()
    assert api.stopped == [True] and not module.installed()
    assert not any(type(f).__name__ == "_PatchingFinder" for f in sys.meta_path)


def test_disabled_config_installs_nothing(auto):
    module, api = auto
    assert module.install(load(env={"PYROMETER_ENABLED": "0"})) is False
    assert api.started == [] and not module.installed()
    assert not any(type(f).__name__ == "_PatchingFinder" for f in sys.meta_path)


def test_agent_start_failure_is_reported_once_and_leaves_libraries_alone(auto, caplog):
    module, api = auto

    def broken_start(cfg):
        raise RuntimeError("native thread failed")

    api._start = broken_start
    _logging.reset_counts()
    with caplog.at_level(logging.WARNING, logger="pyrometer"):
        assert module.install(load(env={})) is True  # never raises into the app
    assert _logging.error_counts() == {"agent.start": 1}
    assert not any(type(f).__name__ == "_PatchingFinder" for f in sys.meta_path)
    assert [r.getMessage() for r in caplog.records if r.name == "pyrometer"] == [
        "pyrometer: the agent failed to start [agent.start]"
    ]


def test_report_once_counts_every_time_logs_once(caplog):
    with caplog.at_level(logging.WARNING, logger="pyrometer"):
        for _ in range(3):
            _logging.report_once("test:key", "something broke", ValueError("x"))
    assert _logging.error_counts()["test:key"] == 3
    records = [r for r in caplog.records if r.name == "pyrometer"]
    assert len(records) == 1 and records[0].exc_info[0] is ValueError


def test_debug_env_sends_logger_to_stderr():
    code = "from pyrometer._logging import report_once; report_once('k', 'visible')"
    env = {"PYROMETER_DEBUG": "1", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert "WARNING: visible [k]" in result.stderr
    env["PYROMETER_DEBUG"] = ""
    quiet = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert quiet.stderr == ""
