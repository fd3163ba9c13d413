"""Registry of integrations: which module of this package instruments which library.

Importing this package imports no integration and no library. Each integration is one file here
(`integrations/<name>.py`) with this contract:

- ``TARGET``: the module whose first import triggers ``patch()`` (e.g. ``"flask"``); must equal
  its key in :data:`REGISTRY`.
- ``SUPPORTED``: the supported versions of TARGET's distribution as a PEP 440 specifier string,
  e.g. ``">=2.2,<4"`` (``pyrometer doctor`` checks it; ``patch()`` may refuse other versions).
- ``patch()`` / ``unpatch()``: install / remove the instrumentation; idempotent. ``patch()`` runs
  right after TARGET finished executing; if it raises, the import hook reports once and leaves
  the library unpatched and working.
- The module must not import its library (or anything heavy) at module level: the library is
  imported by the app, and ``patch()`` receives it through ``sys.modules``.

To add an integration, add one line to REGISTRY.
"""

from __future__ import annotations

# TARGET module name -> integration module (absolute name). Keep sorted; one line per integration.
REGISTRY: dict[str, str] = {
    "aiohttp": "pyrometer.integrations.aiohttp",
    "aiosqlite": "pyrometer.integrations.aiosqlite",
    "asyncio": "pyrometer.integrations.asyncio",
    "celery": "pyrometer.integrations.celery",
    "django.core.handlers.base": "pyrometer.integrations.django",
    "fastapi": "pyrometer.integrations.fastapi",
    "flask": "pyrometer.integrations.flask",
    "gunicorn.workers.base": "pyrometer.integrations.gunicorn",
    "httpx": "pyrometer.integrations.httpx",
    "logging": "pyrometer.integrations.logging",
    "psycopg": "pyrometer.integrations.psycopg",
    "psycopg2": "pyrometer.integrations.psycopg2",
    "redis": "pyrometer.integrations.redis",
    "requests": "pyrometer.integrations.requests",
    "sqlalchemy": "pyrometer.integrations.sqlalchemy",
    "sqlite3": "pyrometer.integrations.sqlite3",
    "starlette.applications": "pyrometer.integrations.starlette",
    "urllib3": "pyrometer.integrations.urllib3",
    "uvicorn.server": "pyrometer.integrations.uvicorn",
}


def register(target: str, integration: str) -> None:
    """Adds (or replaces) a registry entry at run time; call before `pyrometer.auto.install()`.

    Integrations shipped with Pyrometer belong in REGISTRY; this is for tests and plug-ins.
    """
    REGISTRY[target] = integration


def short_name(integration: str) -> str:
    """The name PYROMETER_DISABLED_INTEGRATIONS uses: the last dotted component."""
    return integration.rsplit(".", 1)[-1]
