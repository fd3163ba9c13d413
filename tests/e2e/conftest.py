"""Fixtures for end-to-end tests: the real pyrometer-server from tests/integration."""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
for sub in ("unit", "integration"):
    if str(TESTS / sub) not in sys.path:
        sys.path.insert(0, str(TESTS / sub))

from pyrometer_server import pyrometer_server, pyrometer_server_factory  # noqa: E402, F401
