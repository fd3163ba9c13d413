"""A framework-less WSGI app: traced by the gunicorn integration's generic WSGI layer."""

from __future__ import annotations

from typing import Any, Callable, Iterator


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
    if environ["PATH_INFO"] == "/boom":
        raise RuntimeError("plain app failed")
    start_response("201 Created", [("Content-Type", "text/plain"), ("X-Plain", "1")])
    yield b"made"
