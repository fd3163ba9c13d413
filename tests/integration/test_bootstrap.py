"""Bootstrap end to end: `pyrometer run` sitecustomize, chaining, PYROMETER_ENABLED=false, the
lazy import hook (with a fake integration), spawned and forked workers (uvicorn, gunicorn, mp).
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pyrometer import _importhook, _logging, integrations

RUN = [sys.executable, "-m", "pyrometer", "run"]
VENV_BIN = os.path.dirname(sys.executable)
PROBE = (
    "import sys, json; print(json.dumps({'pyrometer': 'pyrometer' in sys.modules, "
    "'auto': 'pyrometer.auto' in sys.modules, "
    "'finder': any(type(f).__name__ == '_PatchingFinder' for f in sys.meta_path)}))"
)


def run(*cmd: str, env: dict[str, str] | None = None, cwd: str | None = None):
    full = {**os.environ, **(env or {})}
    return subprocess.run(
        [*RUN, "--", *cmd], env=full, cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_run_bootstraps_python_and_keeps_exit_code_and_output():
    code = PROBE + "; print('hello'); sys.exit(3)"
    result = run(sys.executable, "-c", code)
    assert result.returncode == 3, result.stderr
    probe, hello = result.stdout.splitlines()
    assert json.loads(probe) == {"pyrometer": True, "auto": True, "finder": True}
    assert hello == "hello" and result.stderr == ""


def test_without_run_nothing_is_loaded():
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True)
    assert json.loads(result.stdout) == {"pyrometer": False, "auto": False, "finder": False}


def test_existing_sitecustomize_still_runs(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(
        "import os, sys\nsys.app_site_ran = True\nos.environ['APP_SITE'] = __name__\n"
    )
    code = "import os, sys; print(getattr(sys, 'app_site_ran', False), os.environ.get('APP_SITE'),"
    code += " 'pyrometer.auto' in sys.modules)"
    result = run(sys.executable, "-c", code, env={"PYTHONPATH": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "sitecustomize", "True"]


def test_nested_run_does_not_recurse(tmp_path):
    inner = [*RUN, "--", sys.executable, "-c", PROBE]
    result = run(sys.executable, "-c", f"import subprocess; subprocess.run({inner!r}, check=True)")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["finder"] is True


def test_disabled_installs_nothing():
    code = PROBE + "; print(sorted(m for m in sys.modules if m.startswith('pyrometer')))"
    for env in ({"PYROMETER_ENABLED": "false"}, {"OTEL_SDK_DISABLED": "true"}):
        result = run(sys.executable, "-c", code, env=env)
        assert result.returncode == 0, result.stderr
        probe, loaded = result.stdout.splitlines()
        assert json.loads(probe) == {"pyrometer": False, "auto": False, "finder": False}
        assert "pyrometer.api" not in loaded and "pyrometer._native" not in loaded
        assert "pyrometer._importhook" not in loaded


def test_spawned_multiprocessing_child_is_bootstrapped(tmp_path):
    script = tmp_path / "spawner.py"
    script.write_text(
        textwrap.dedent(
            """
            import multiprocessing as mp, sys

            def child(q):
                q.put("pyrometer.auto" in sys.modules)

            if __name__ == "__main__":
                ctx = mp.get_context("spawn")
                q = ctx.Queue()
                p = ctx.Process(target=child, args=(q,))
                p.start()
                print("child", q.get(timeout=30))
                p.join()
            """
        )
    )
    result = run(sys.executable, str(script))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "child True"


# --- real servers: uvicorn spawns its workers, gunicorn forks them --------------------------------

APP = """
import os, sys
with open(os.path.join({out!r}, str(os.getpid())), "w") as fh:
    fh.write(str("pyrometer.auto" in sys.modules and any(
        type(f).__name__ == "_PatchingFinder" for f in sys.meta_path)))

async def app(scope, receive, send):
    pass

def wsgi(environ, start_response):
    start_response("200 OK", [])
    return [b""]
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _workers_report(cmd: list[str], tmp_path: Path, count: int) -> dict[str, str]:
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "probeapp.py").write_text(APP.format(out=str(out)))
    proc = subprocess.Popen(
        [*RUN, "--", *cmd], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        # A report is one short write: a non-empty file is a whole one.
        while sum(p.stat().st_size > 0 for p in out.iterdir()) < count and proc.poll() is None:
            assert time.monotonic() < deadline, "workers did not start"
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            output = proc.communicate(timeout=30)[0].decode(errors="replace")
        except subprocess.TimeoutExpired:
            proc.kill()
            output = proc.communicate()[0].decode(errors="replace")
    reports = {p.name: p.read_text() for p in out.iterdir()}
    assert len(reports) >= count, output
    return reports


def test_uvicorn_spawned_workers_are_bootstrapped(tmp_path):
    port = str(_free_port())
    cmd = [os.path.join(VENV_BIN, "uvicorn"), "probeapp:app", "--workers", "2", "--port", port]
    reports = _workers_report(cmd + ["--host", "127.0.0.1"], tmp_path, 2)
    assert set(reports.values()) == {"True"}


def test_gunicorn_forked_workers_are_bootstrapped(tmp_path):
    port = str(_free_port())
    cmd = [
        os.path.join(VENV_BIN, "gunicorn"),
        "-w",
        "2",
        "-b",
        f"127.0.0.1:{port}",
        "probeapp:wsgi",
    ]
    reports = _workers_report(cmd, tmp_path, 2)
    assert set(reports.values()) == {"True"}


# --- the import hook, in process, with a fake integration -----------------------------------------


@pytest.fixture
def fake_library(tmp_path, monkeypatch):
    """A library module and an integration for it, both created in tmp_path; hook removed after."""
    name = f"fakelib_{os.getpid()}_{abs(hash(str(tmp_path))) % 10**8}"
    (tmp_path / f"{name}.py").write_text("def greet():\n    return 'hello'\n")
    integ = f"{name}_integration"
    (tmp_path / f"{integ}.py").write_text(
        textwrap.dedent(
            f"""
            import sys
            TARGET = {name!r}
            SUPPORTED = ">=0"
            FAIL = False
            calls = []

            def patch():
                calls.append("patch")
                if FAIL:
                    raise RuntimeError("patch exploded")
                mod = sys.modules[TARGET]
                original = mod.greet
                mod.greet = lambda: original() + " (traced)"

            def unpatch():
                pass
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    integrations.register(name, integ)
    yield name, integ
    _importhook.uninstall()
    integrations.REGISTRY.pop(name, None)
    for mod in (name, integ):
        sys.modules.pop(mod, None)


def test_hook_patches_on_first_import(fake_library):
    name, integ = fake_library
    _importhook.install()
    assert name not in sys.modules  # installing imports nothing
    module = importlib.import_module(name)
    assert module.greet() == "hello (traced)"
    assert sys.modules[integ].calls == ["patch"]
    assert module.__loader__ is module.__spec__.loader
    assert type(module.__loader__).__name__ == "SourceFileLoader"
    assert _importhook.patched()[name] == integ


def test_hook_patches_already_imported_target_at_install(fake_library):
    name, integ = fake_library
    module = importlib.import_module(name)
    _importhook.install()
    assert module.greet() == "hello (traced)"


def test_disabled_integration_is_not_patched(fake_library):
    name, integ = fake_library
    _importhook.install(disabled=[integrations.short_name(integ)])
    assert importlib.import_module(name).greet() == "hello"
    assert integ not in sys.modules


def test_failing_patch_leaves_library_working_and_reports_once(fake_library, caplog):
    name, integ = fake_library
    importlib.import_module(integ).FAIL = True
    _importhook.install()
    with caplog.at_level(logging.WARNING, logger="pyrometer"):
        module = importlib.import_module(name)
        assert module.greet() == "hello"
        _importhook.run_patch(name, integ)  # a second failure is counted, not logged again
    records = [r for r in caplog.records if r.name == "pyrometer"]
    assert len(records) == 1 and "patch exploded" in str(records[0].exc_info[1])
    assert name in records[0].getMessage()
    assert _logging.error_counts()["patch:" + integ] == 2
    assert name not in _importhook.patched()


def test_registered_integrations_declare_their_target():
    for target, module_name in integrations.REGISTRY.items():
        before = set(sys.modules)
        module = importlib.import_module(module_name)
        assert module.TARGET == target
        assert callable(module.patch) and callable(module.unpatch) and module.SUPPORTED
        assert target in before or target not in sys.modules, f"{module_name} imports {target}"


def test_disabled_in_toml_installs_nothing(tmp_path):
    (tmp_path / "pyrometer.toml").write_text("enabled = false\n")
    result = run(sys.executable, "-c", PROBE, cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"pyrometer": True, "auto": False, "finder": False}


def test_broken_app_sitecustomize_is_reported_and_we_still_start(tmp_path):
    (tmp_path / "sitecustomize.py").write_text("raise RuntimeError('app site broken')\n")
    result = run(sys.executable, "-c", PROBE, env={"PYTHONPATH": str(tmp_path)})
    assert result.returncode == 0
    assert json.loads(result.stdout)["auto"] is True
    assert "app site broken" in result.stderr


def test_every_integration_with_a_target_is_registered():
    import pkgutil

    unregistered = []
    for info in pkgutil.iter_modules(integrations.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{integrations.__name__}.{info.name}")
        if module.TARGET is not None and module.TARGET not in integrations.REGISTRY:
            unregistered.append(f"{module.TARGET}: {module.__name__}")
    assert unregistered == [], "add these to pyrometer.integrations.REGISTRY"
