"""Lazy patching: a sys.meta_path finder that runs an integration's patch() after its TARGET loads.

The finder only answers for registered TARGET names, asks the other finders for the real spec and
wraps its loader, so a library is patched on the app's first import of it and never imported by us.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading

from pyrometer import integrations
from pyrometer._logging import get_logger, report_once

# typing is only for type checkers: it costs milliseconds at every interpreter start.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Iterable

_lock = threading.Lock()
_finder: _PatchingFinder | None = None
_patched: dict[str, str] = {}  # TARGET -> integration, for every patch() that returned


def _after_fork_in_child() -> None:
    # A thread of the parent may have held the lock at fork(); the child has no such thread.
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def run_patch(target: str, integration: str) -> bool:
    """Imports the integration and calls patch(); on failure reports once and returns False."""
    try:
        module = importlib.import_module(integration)
        module.patch()
    except Exception as exc:  # noqa: BLE001 - an integration must never break the app's import
        report_once(
            "patch:" + integration,
            f"pyrometer: instrumenting {target} with {integration} failed; "
            f"{target} keeps working uninstrumented",
            exc,
        )
        return False
    with _lock:
        _patched[target] = integration
    get_logger().debug("patched %s with %s", target, integration)
    return True


class _PatchingLoader:
    """Runs the real loader, puts it back on the module, then patches. Everything else delegates."""

    def __init__(self, loader: Any, target: str, integration: str) -> None:
        self._loader = loader
        self._target = target
        self._integration = integration

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        # Restore the real loader first: inspect, importlib.resources and pickle look at it.
        module.__loader__ = self._loader
        if getattr(module, "__spec__", None) is not None:
            module.__spec__.loader = self._loader
        self._loader.exec_module(module)  # the app's import errors propagate unchanged
        run_patch(self._target, self._integration)


class _PatchingFinder:
    """Answers find_spec only for pending TARGETs; one instance per process."""

    def __init__(self, pending: dict[str, str]) -> None:
        self.pending = pending

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        integration = self.pending.get(fullname)
        if integration is None:
            return None
        spec = None
        # Ask the finders after us directly rather than removing ourselves from sys.meta_path:
        # mutating meta_path would race with imports in other threads.
        for finder in list(sys.meta_path):
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        with _lock:
            if self.pending.pop(fullname, None) is None:
                return spec  # another thread got here first
        spec.loader = _PatchingLoader(spec.loader, fullname, integration)
        return spec


def install(disabled: Iterable[str] = ()) -> None:
    """Installs the finder (once) for every registered integration not in `disabled`.

    Targets already imported are patched now. `disabled` holds short names or TARGET names.
    """
    global _finder
    off = {d.lower() for d in disabled}
    todo = {
        t: i
        for t, i in integrations.REGISTRY.items()
        if t.lower() not in off and integrations.short_name(i).lower() not in off
    }
    with _lock:
        todo = {t: i for t, i in todo.items() if t not in _patched}
        if _finder is None:
            _finder = _PatchingFinder({})
            sys.meta_path.insert(0, _finder)
        now = {t: i for t, i in todo.items() if t in sys.modules}
        _finder.pending.update({t: i for t, i in todo.items() if t not in now})
    for target, integration in now.items():
        run_patch(target, integration)


def uninstall() -> None:
    """Removes the finder (patches already applied stay; call each integration's unpatch())."""
    global _finder
    with _lock:
        if _finder is not None:
            try:
                sys.meta_path.remove(_finder)
            except ValueError:
                pass
            _finder = None


def unpatch_all() -> None:
    """Calls unpatch() of every integration patched in this process; failures are reported once."""
    with _lock:
        done = dict(_patched)
        _patched.clear()
    for target, integration in done.items():
        try:
            importlib.import_module(integration).unpatch()
        except Exception as exc:  # noqa: BLE001
            report_once("unpatch:" + integration, f"pyrometer: unpatching {target} failed", exc)


def patched() -> dict[str, str]:
    """TARGET -> integration for every successful patch in this process."""
    with _lock:
        return dict(_patched)
