"""PYROMETER_ENABLED=false and cfg.enabled=False: every API call works on a no-op span and the
native module is not loaded (env) or not used (config)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_env_disabled_gives_noop_spans_and_no_native_module() -> None:
    result = _run(
        """
        import asyncio, sys
        import pyrometer
        from pyrometer import api
        with pyrometer.span("x") as s:
            s.set_attribute("k", "v"); s.add_event("e"); s.record_exception(ValueError())
            s.set_status("error"); s.end()
            assert isinstance(s, api.NoopSpan) and not s.is_recording
            assert isinstance(api.current_span(), api.NoopSpan)
        @pyrometer.span
        def f(): return 1
        @pyrometer.span("named")
        async def g(): return 2
        assert f() == 1 and asyncio.run(g()) == 2
        assert f.__module__ == "__main__"  # the function itself, not a wrapper
        api.set_user("u"); api.set_tag("k", "v"); api.set_attribute("a", 1)
        h = {}; api.inject(h); assert h == {}
        assert api.extract({"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"}) is None
        assert api.flush() is True
        assert "pyrometer._native" not in sys.modules
        print("ok")
        """,
        PYROMETER_ENABLED="false",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_config_disabled_switches_span_to_noop() -> None:
    result = _run(
        """
        from pyrometer import api, config, _native
        cfg = config.load(env={"PYROMETER_ENABLED": "false"})
        assert cfg.enabled is False
        span_before = _native.span  # grabbed before _start, like an early import would
        api._start(cfg)
        import pyrometer
        assert isinstance(pyrometer.span("x"), api.NoopSpan)
        assert isinstance(span_before("x"), api.NoopSpan)
        assert isinstance(api.start_span("x"), api.NoopSpan)
        def f(): return 1
        assert span_before(f) is f
        print("ok")
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
