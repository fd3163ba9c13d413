"""Pyrometer's sitecustomize: `pyrometer run` puts this directory first on PYTHONPATH.

It runs the next `sitecustomize` on sys.path (the app's or the distribution's own, so theirs still
runs), then starts Pyrometer unless the configuration disables it. It never raises.
"""

import os
import sys


def _chain() -> None:
    """Executes the sitecustomize found on sys.path outside this directory, under its own name."""
    import importlib.machinery
    import importlib.util

    here = os.path.dirname(os.path.realpath(__file__))
    rest = [p for p in sys.path if os.path.realpath(p or os.curdir) != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    ours = sys.modules.get("sitecustomize")
    sys.modules["sitecustomize"] = module  # what `import sitecustomize` inside it would see
    try:
        spec.loader.exec_module(module)
    except BaseException:
        if ours is not None:
            sys.modules["sitecustomize"] = ours
        raise
    # On success theirs stays registered: the app's `import sitecustomize` gets the app's module.


def _debug(message: str) -> None:
    if os.environ.get("PYROMETER_DEBUG", "").strip().lower() in ("1", "true", "yes", "on"):
        sys.stderr.write("pyrometer: " + message + "\n")


def _disabled_by_env() -> bool:
    """PYROMETER_ENABLED=false (or OTEL_SDK_DISABLED=true without it): skip even loading config,
    so a disabled process carries no Pyrometer module at all. Other values go through config."""
    enabled = os.environ.get("PYROMETER_ENABLED", "").strip().lower()
    if enabled:
        return enabled in ("0", "false", "no", "off")
    return os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() in ("1", "true", "yes", "on")


def _start() -> None:
    if _disabled_by_env():
        return
    try:
        from pyrometer import config
    except ImportError as exc:  # this interpreter does not have pyrometer installed
        _debug(f"not instrumenting {sys.executable}: {exc}")
        return
    try:
        cfg = config.current()
    except Exception as exc:  # noqa: BLE001 - load() never raises; belt and braces
        _debug(f"configuration failed: {exc!r}")
        return
    if not cfg.enabled:
        return
    from pyrometer import auto

    auto.install(cfg)


try:
    _chain()
except Exception as exc:  # noqa: BLE001 - the other sitecustomize failed: report like site.py does
    sys.stderr.write(f"Error in sitecustomize (chained by pyrometer); set PYTHONVERBOSE: {exc!r}\n")
try:
    _start()
except Exception as exc:  # noqa: BLE001
    _debug(f"start-up failed: {exc!r}")
