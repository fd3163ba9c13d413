"""Locates the pyrometer-server binary shipped in the wheel (or named by PYROMETER_SERVER_BIN)."""

from __future__ import annotations

import os


class ServerBinaryMissing(Exception):
    """The server binary is not where it should be; the message says where we looked."""


def server_binary() -> str:
    """Absolute path of an executable pyrometer-server, or raises ServerBinaryMissing."""
    override = os.environ.get("PYROMETER_SERVER_BIN", "").strip()
    if override:
        path, origin = override, "PYROMETER_SERVER_BIN"
    else:
        import importlib.resources

        resource = importlib.resources.files("pyrometer") / "bin" / "pyrometer-server"
        path, origin = os.fspath(resource), "the pyrometer package"  # type: ignore[arg-type]
    if not os.path.isfile(path):
        raise ServerBinaryMissing(
            f"server binary not found at {path} (from {origin}); reinstall pyrometer "
            "(`pip install pyrometer`, or `make build` in a checkout) or set PYROMETER_SERVER_BIN"
        )
    if not os.access(path, os.X_OK):
        raise ServerBinaryMissing(f"server binary {path} (from {origin}) is not executable")
    return os.path.abspath(path)
