"""Importing an integration module never imports the library it instruments (patch() does the
work when the app's own import of the library has finished)."""

from __future__ import annotations

import json
import subprocess
import sys

from pyrometer import integrations

LIBRARIES = sorted({t.split(".")[0] for t in integrations.REGISTRY} - {"logging", "asyncio",
                                                                        "sqlite3"})  # fmt: skip


def test_integration_modules_import_no_library() -> None:
    code = (
        "import json, sys\n"
        "from pyrometer import integrations\n"
        "import importlib\n"
        "for m in sorted(set(integrations.REGISTRY.values())): importlib.import_module(m)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)  # fmt: skip
    loaded = set(json.loads(result.stdout))
    assert [lib for lib in LIBRARIES if lib in loaded] == []
    assert "flask" in LIBRARIES and "django" in LIBRARIES and "celery" in LIBRARIES
