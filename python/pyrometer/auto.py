"""One-line instrumentation: ``import pyrometer.auto`` does what ``pyrometer run`` does.

Importing this module calls install(): it reads the configuration, starts the agent
(``pyrometer.api._start``) and installs the lazy import hook that patches libraries on first import.
Nothing here ever raises into the app; failures are logged once on the `pyrometer` logger.
"""

from __future__ import annotations

import importlib
import sys
import threading

from pyrometer._logging import get_logger, report_once

# typing is only for type checkers: it costs milliseconds at every interpreter start.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrometer.config import Config

_lock = threading.Lock()
_state = {"installed": False, "agent_started": False}


def install(cfg: Config | None = None) -> bool:
    """Starts Pyrometer in this process; idempotent and thread-safe. Returns True when active.

    With PYROMETER_ENABLED=false (or OTEL_SDK_DISABLED=true) it does nothing and returns False.
    """
    with _lock:
        if _state["installed"]:
            return True
        try:
            if cfg is None:
                from pyrometer import config

                cfg = config.current()
            if not cfg.enabled:
                get_logger().debug("disabled by configuration; nothing installed")
                return False
            _state["installed"] = True
            if cfg.debug:
                from pyrometer._logging import enable_debug

                enable_debug()
            if not _start_agent(cfg):
                return True  # the agent reported its failure; leave libraries unpatched
            from pyrometer import _importhook

            _importhook.install(cfg.disabled_integrations)
        except Exception as exc:  # noqa: BLE001 - never let start-up break the app
            msg = "pyrometer: start-up failed; the app runs uninstrumented"
            report_once("auto.install", msg, exc)
        return _state["installed"]


def _start_agent(cfg: Config) -> bool:
    """Calls pyrometer.api._start(cfg) if the agent provides it. False if it failed."""
    try:
        api = importlib.import_module("pyrometer.api")
    except ModuleNotFoundError as exc:
        if exc.name != "pyrometer.api":
            report_once("agent.import", "pyrometer: cannot load the agent (pyrometer.api)", exc)
            return False
        get_logger().debug("pyrometer.api is not in this build; only the import hook is installed")
        return True
    except Exception as exc:  # noqa: BLE001 - e.g. _native built for another Python
        report_once("agent.import", "pyrometer: cannot load the agent (pyrometer.api)", exc)
        return False
    start = getattr(api, "_start", None)
    if start is None:
        get_logger().debug("pyrometer.api has no _start yet; only the import hook is installed")
        return True
    try:
        start(cfg)
    except Exception as exc:  # noqa: BLE001
        report_once("agent.start", "pyrometer: the agent failed to start", exc)
        return False
    _state["agent_started"] = True
    return True


def uninstall() -> None:
    """Removes the import hook, unpatches libraries and stops the agent (``api._shutdown``).

    For tests and embedding; a normal process simply exits. Never raises.
    """
    with _lock:
        if not _state["installed"]:
            return
        _state["installed"] = False
        try:
            from pyrometer import _importhook

            _importhook.uninstall()
            _importhook.unpatch_all()
            shutdown = getattr(sys.modules.get("pyrometer.api"), "_shutdown", None)
            if _state["agent_started"] and shutdown is not None:
                _state["agent_started"] = False
                shutdown()
        except Exception as exc:  # noqa: BLE001
            report_once("auto.uninstall", "pyrometer: shutdown failed", exc)


def installed() -> bool:
    """True once install() has activated Pyrometer in this process."""
    return _state["installed"]


install()
