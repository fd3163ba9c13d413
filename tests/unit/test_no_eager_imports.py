"""Nothing is imported eagerly: a script that imports nothing, run under `pyrometer run`, gets only
Pyrometer's own modules and a few small stdlib ones — no framework, driver, network or asyncio.
"""

from __future__ import annotations

import os
import subprocess
import sys

from pyrometer import integrations

LIST_MODULES = "import sys; print('\\n'.join(sorted(sys.modules)))"

# Top-level stdlib packages the bootstrap and the agent may load (logging, config, threads).
# `__future__` is imported at run time by every `from __future__ import annotations` (the 3.11
# editable install's finder loads it first, so it only shows up in a regular install);
# `_tokenize` is the C tokenizer behind `tokenize` from 3.12; `_colorize` (traceback's) and
# `_opcode_metadata` (opcode's) are 3.13's helpers of modules already listed; before 3.11 `re`
# is implemented in `sre_*` (and loads `_locale` on 3.10, `heapq` through collections on 3.9).
ALLOWED_STDLIB = {
    "__future__", "_abc", "_ast", "_collections", "_colorize", "_contextvars", "_functools",
    "_heapq", "_json", "_locale", "_opcode", "_opcode_metadata", "_operator", "_sre", "_string",
    "_thread", "_tokenize", "_typing", "_weakref", "_weakrefset", "abc", "ast", "atexit",
    "collections", "contextlib", "contextvars", "copy", "copyreg", "dataclasses", "dis", "enum",
    "functools", "gc", "heapq", "importlib", "inspect", "itertools", "json", "keyword", "linecache",
    "logging", "opcode", "operator", "re", "reprlib", "signal", "sitecustomize", "sre_compile",
    "sre_constants", "sre_parse", "string", "sysconfig", "textwrap", "threading", "token",
    "tokenize", "traceback", "types", "typing", "warnings", "weakref",
}  # fmt: skip
# Never loaded by us unless the app imports them (the examples plus heavy stdlib).
FORBIDDEN = {
    "flask", "django", "fastapi", "starlette", "requests", "urllib3", "httpx", "aiohttp", "redis",
    "celery", "sqlalchemy", "psycopg", "psycopg2", "gunicorn", "uvicorn", "sqlite3", "asyncio",
    "ssl", "socket", "http", "urllib", "email", "concurrent", "multiprocessing",
    "importlib_metadata", "pkg_resources", "tomllib",
}  # fmt: skip


def _modules(cmd: list[str], env: dict[str, str]) -> set[str]:
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split())


def test_run_loads_no_library_modules(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYROMETER_CONFIG"] = ""  # no toml: tomllib is only loaded when a file exists
    python = [sys.executable, "-c", LIST_MODULES]
    baseline = _modules(python, env)
    instrumented = _modules([sys.executable, "-m", "pyrometer", "run", "--", *python], env)
    added = instrumented - baseline
    assert "pyrometer.auto" in added  # the bootstrap did run
    ours = {m for m in added if m == "pyrometer" or m.startswith("pyrometer.")}
    tops = {m.split(".")[0] for m in added - ours if not m.startswith("_sysconfigdata")}
    assert not tops & FORBIDDEN, sorted(tops & FORBIDDEN)
    assert tops <= ALLOWED_STDLIB, sorted(tops - ALLOWED_STDLIB)
    # An integration is loaded only when its library is: `logging` is (our own logger uses it).
    for module in ours:
        short = module.rpartition(".")[2]
        if module.startswith("pyrometer.integrations.") and not short.startswith("_"):
            target = next(t for t, i in integrations.REGISTRY.items() if i == module)
            assert target in instrumented, f"{module} loaded without {target}"


def test_importing_pyrometer_alone_loads_nothing_else():
    # The editable install's own finder may load importlib helpers; we only judge our modules.
    code = "import pyrometer, sys; print(sorted(m for m in sys.modules if 'pyrometer' in m))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert set(eval(result.stdout)) - {"_editable_skbc_pyrometer"} == {"pyrometer"}
