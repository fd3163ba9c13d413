"""redis (redis-py, sync and asyncio): a CLIENT span per command (including those a transaction
pipeline runs at once while WATCHing) and per pipeline execution.

Only command names are recorded (``db.query.text`` is "SET" or, for a pipeline, the names one per
line): keys and values never leave the process.
"""

from __future__ import annotations

import sys
from typing import Any, Callable

from pyrometer.integrations import _common, _wrap

TARGET = "redis"
SUPPORTED = ">=4.2,<9"
_NAME = "redis"


def _command_name(args: tuple[Any, ...]) -> str:
    if not args:
        return "UNKNOWN"
    first = args[0]
    name = first.decode("latin-1") if isinstance(first, (bytes, bytearray)) else str(first)
    return name.upper()[:64]


def _attrs(client: Any) -> dict[str, Any]:
    kwargs = getattr(getattr(client, "connection_pool", None), "connection_kwargs", None) or {}
    port = kwargs.get("port")
    return {
        "db.system.name": "redis",
        "db.system": "redis",
        "server.address": kwargs.get("host") or kwargs.get("path"),
        "server.port": int(port) if isinstance(port, int) else None,
        "db.namespace": str(kwargs.get("db", 0)),
    }


def _start_command(client: Any, args: tuple[Any, ...]) -> _common.Span | None:
    if _common.suppressed_db():
        return None
    try:
        name = _command_name(args)
        attrs = _attrs(client)
        attrs["db.operation.name"] = name
        attrs["db.query.text"] = name
        return _common.start(name, _common.CLIENT, attrs)
    except Exception as err:
        _common.fault(_NAME, "start", err)
        return None


def _start_pipeline(pipe: Any) -> _common.Span | None:
    if _common.suppressed_db():
        return None
    try:
        names = [_command_name(tuple(args)) for args, _ in pipe.command_stack]
        attrs = _attrs(pipe)
        # sync: .transaction; asyncio: .is_transaction (there .transaction is a method)
        transaction = getattr(pipe, "is_transaction", None)
        if transaction is None:
            transaction = getattr(pipe, "transaction", False)
        explicit = getattr(pipe, "explicit_transaction", False)
        operation = "MULTI" if transaction or explicit else "PIPELINE"
        attrs["db.operation.name"] = operation
        attrs["db.operation.batch.size"] = len(names)
        attrs["db.query.text"] = "\n".join(names)
        return _common.start(operation, _common.CLIENT, attrs)
    except Exception as err:
        _common.fault(_NAME, "start", err)
        return None


def _sync(start: Callable[..., _common.Span | None], with_args: bool) -> Callable[..., Any]:
    def factory(original: Callable[..., Any]) -> Callable[..., Any]:
        @_wrap.wraps(original)
        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            span = start(self, args) if with_args else start(self)
            if span is None:
                return original(self, *args, **kwargs)
            try:
                result = original(self, *args, **kwargs)
            except BaseException as exc:
                _common.finish(span, _NAME, exc)
                raise
            _common.finish(span, _NAME)
            return result

        return method

    return factory


def _async(start: Callable[..., _common.Span | None], with_args: bool) -> Callable[..., Any]:
    def factory(original: Callable[..., Any]) -> Callable[..., Any]:
        @_wrap.wraps(original)
        async def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            span = start(self, args) if with_args else start(self)
            if span is None:
                return await original(self, *args, **kwargs)
            try:
                result = await original(self, *args, **kwargs)
            except BaseException as exc:
                _common.finish(span, _NAME, exc)
                raise
            _common.finish(span, _NAME)
            return result

        return method

    return factory


def _targets() -> list[tuple[Any, str, Callable[..., Any]]]:
    # A transaction pipeline runs WATCH, and every command until MULTI, at once through
    # immediate_execute_command (Pipeline overrides execute_command, so Redis's is not reached):
    # those are command spans too; the queued commands go out as the one MULTI span at EXEC.
    client = sys.modules["redis.client"]
    out = [(client.Redis, "execute_command", _sync(_start_command, True)),
           (client.Pipeline, "immediate_execute_command", _sync(_start_command, True)),
           (client.Pipeline, "execute", _sync(_start_pipeline, False))]  # fmt: skip
    aio = sys.modules.get("redis.asyncio.client")
    if aio is not None:
        out += [(aio.Redis, "execute_command", _async(_start_command, True)),
                (aio.Pipeline, "immediate_execute_command", _async(_start_command, True)),
                (aio.Pipeline, "execute", _async(_start_pipeline, False))]  # fmt: skip
    return out


def patch() -> None:
    if "redis.client" not in sys.modules:
        __import__("redis.client")
    try:
        for owner, name, factory in _targets():
            _wrap.wrap(owner, name, factory)
    except BaseException:
        unpatch()
        raise


def unpatch() -> None:
    if "redis.client" not in sys.modules:
        return
    for owner, name, _ in _targets():
        _wrap.unwrap(owner, name)
