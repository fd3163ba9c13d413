"""Every integration whose patch() fails part-way reports once, rolls back what it had done,
and leaves its library working uninstrumented."""

from __future__ import annotations

import importlib
import logging
from typing import Any

import pytest

from pyrometer import _importhook, _logging, integrations
from pyrometer.integrations import _wrap

pytestmark = pytest.mark.usefixtures("clean_integrations")

SIGNAL_BASED = ("sqlalchemy", "celery", "logging")
WRAPPING = sorted(
    (target, module)
    for target, module in integrations.REGISTRY.items()
    if module.rsplit(".", 1)[-1] not in SIGNAL_BASED
)


def _fail_from_call(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, n: int) -> None:
    """Makes owner.name raise from its n-th call on (earlier calls do the real thing)."""
    real = getattr(owner, name)
    calls = [0]

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] >= n:
            raise RuntimeError("simulated patch failure")
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, failing)


def _patch_fails_once_reported(target: str, module: str, caplog: pytest.LogCaptureFixture) -> None:
    importlib.import_module(target)
    _logging.reset_counts()
    with caplog.at_level(logging.WARNING, logger="pyrometer"):
        assert _importhook.run_patch(target, module) is False
        assert _importhook.run_patch(target, module) is False
    assert _logging.error_counts() == {f"patch:{module}": 2}
    reports = [r for r in caplog.records if "keeps working uninstrumented" in r.getMessage()]
    assert len(reports) == 1  # logged once, counted every time


@pytest.mark.parametrize(("target", "module"), WRAPPING)
def test_wrapping_integrations_roll_back(
    target: str, module: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    assert _wrap._originals == {}
    # the last wrap of patch() fails: anything wrapped before it must be undone
    wraps = [0]
    real_wrap = _wrap.wrap

    def counting(owner: Any, name: str, factory: Any) -> bool:
        wraps[0] += 1
        return real_wrap(owner, name, factory)

    monkeypatch.setattr(_wrap, "wrap", counting)
    importlib.import_module(target)
    importlib.import_module(module).patch()
    importlib.import_module(module).unpatch()
    total = wraps[0]
    monkeypatch.setattr(_wrap, "wrap", real_wrap)
    _fail_from_call(monkeypatch, _wrap, "wrap", max(total, 1))
    _patch_fails_once_reported(target, module, caplog)
    assert _wrap._originals == {}  # nothing left wrapped


def test_sqlalchemy_rolls_back(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import sqlalchemy

    from pyrometer.integrations import sqlalchemy as integration

    _fail_from_call(monkeypatch, sqlalchemy.event, "listen", 3)
    _patch_fails_once_reported("sqlalchemy", integration.__name__, caplog)
    monkeypatch.undo()  # create_engine uses event.listen itself
    for name, fn in integration._LISTENERS:
        assert not sqlalchemy.event.contains(sqlalchemy.engine.Engine, name, fn)
    with sqlalchemy.create_engine("sqlite://").connect() as conn:
        assert conn.execute(sqlalchemy.text("select 1")).scalar() == 1


def test_celery_rolls_back(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from celery import signals

    from pyrometer.integrations import celery as integration

    before = {s: list(getattr(signals, s).receivers) for s in integration._HANDLERS}
    _fail_from_call(monkeypatch, signals.task_retry, "connect", 1)
    _patch_fails_once_reported("celery", integration.__name__, caplog)
    assert {s: list(getattr(signals, s).receivers) for s in integration._HANDLERS} == before


def test_logging_patch_failure(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    original = logging.getLogRecordFactory()
    _fail_from_call(monkeypatch, logging, "setLogRecordFactory", 1)
    _patch_fails_once_reported("logging", "pyrometer.integrations.logging", caplog)
    assert logging.getLogRecordFactory() is original
    record = logging.getLogger("x").makeRecord("x", logging.INFO, __file__, 1, "m", (), None)
    assert not hasattr(record, "trace_id")
