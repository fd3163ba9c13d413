"""FastAPI: an app is a Starlette app, so the Starlette integration traces it; this module only
makes sure that integration is applied when the app imports fastapi (which imports starlette).
"""

from __future__ import annotations

from pyrometer.integrations import starlette

TARGET = "fastapi"
SUPPORTED = ">=0.95,<1"


def patch() -> None:
    starlette.patch()  # idempotent: a no-op when the starlette import already patched it


def unpatch() -> None:
    starlette.unpatch()
