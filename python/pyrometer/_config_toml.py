"""Reads pyrometer.toml for pyrometer.config: finds the file, parses it, flags unknown keys.

tomllib on Python 3.11+, `tomli` if installed on older versions; otherwise the file is ignored with
a warning. Keys are the Config field names at top level (e.g. `service_name = "api"`).
"""

from __future__ import annotations

import os

# typing is only for type checkers: it costs milliseconds at every interpreter start.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Mapping

DEFAULT_TOML = "pyrometer.toml"


def read(
    env: Mapping[str, str], toml_path: str | None, warn: Callable[[str], None]
) -> tuple[dict[str, Any], str | None, str]:
    """Returns (values, absolute path or None, source label). Never raises."""
    from pyrometer.config import _SPECS

    explicit = toml_path or env.get("PYROMETER_CONFIG", "").strip() or None
    path = explicit or DEFAULT_TOML
    if not os.path.isfile(path):
        if explicit:
            warn(f"pyrometer: configuration file {explicit!r} not found; ignoring it")
        return {}, None, "default"
    path = os.path.abspath(path)
    label = f"pyrometer.toml ({path})"
    parser = _toml_module()
    if parser is None:
        warn(f"pyrometer: cannot read {path}: install `tomli` on Python < 3.11; ignoring it")
        return {}, None, "default"
    try:
        with open(path, "rb") as fh:
            data = parser.load(fh)
    except (OSError, ValueError) as exc:  # tomllib.TOMLDecodeError is a ValueError
        warn(f"pyrometer: cannot read {path}: {exc}; ignoring it")
        return {}, None, "default"
    values = {}
    for key, value in data.items():
        if key in _SPECS:
            values[key] = value
        else:
            warn(f"pyrometer: unknown key {key!r} in {path}; ignoring it")
    return values, path, label


def _toml_module() -> Any:
    try:
        import tomllib  # type: ignore[import-not-found]

        return tomllib
    except ImportError:
        pass
    try:
        import tomli  # type: ignore[import-not-found]

        return tomli
    except ImportError:
        return None
