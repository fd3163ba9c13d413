"""DB-API 2.0 base shared by the sqlite3, psycopg and psycopg2 integrations: one CLIENT span per
statement, named ``{operation} {table}``, with the normalised text and its fingerprint.

Literal values never leave the process unless PYROMETER_CAPTURE_SQL_VALUES=true.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Mapping

from pyrometer.integrations import _common
from pyrometer.integrations._common import _suppress_db

TARGET = None  # a base for the driver integrations; nothing to patch on import
SUPPORTED = "PEP 249"


_normalize_sql: Any = None
# Apps run the same few statement texts over and over: normalising once per distinct text saves
# a native call and a tuple per statement. Bounded; emptied when full (the texts of a steady
# app fit, and an app generating unique texts pays one dict clear per _CACHE_SIZE statements).
_CACHE_SIZE = 512
_normalized: dict[tuple[str, str], tuple[str, str, str, str]] = {}


def normalize(text: str, system: str = "") -> tuple[str, str, str, str]:
    """(normalized text, fingerprint hex, operation, table) from the native normaliser
    (native/common/sql_normalizer.h). Without it the caller's span start fails, is reported
    once, and the statement runs untraced: no literal value can leak through a fallback."""
    key = (text, system)
    found = _normalized.get(key)
    if found is not None:
        return found
    global _normalize_sql
    if _normalize_sql is None:
        from pyrometer import _native

        _normalize_sql = _native.normalize_sql
    result: tuple[str, str, str, str] = tuple(_normalize_sql(text, system))  # type: ignore[assignment]
    if len(_normalized) >= _CACHE_SIZE:
        _normalized.clear()
    _normalized[key] = result
    return result


def query_text(query: Any, context: Any = None) -> str:
    """The statement as text: str, bytes, or a composed query object (psycopg ``sql.SQL``)."""
    if isinstance(query, str):
        return query
    if context is not None and hasattr(query, "as_string"):
        return str(query.as_string(context))
    if isinstance(query, (bytes, bytearray, memoryview)):
        return bytes(query).decode("utf-8", "replace")
    return str(query)


def start_span(
    system: str, query: Any, conn_attrs: Mapping[str, Any], context: Any = None
) -> _common.Span:
    """Starts the CLIENT span of one statement (current until ended)."""
    return _start(system, query, dict(conn_attrs), context)


def _start(system: str, query: Any, attrs: dict[str, Any], context: Any) -> _common.Span:
    """start_span on ``attrs``, a dict of the caller's that becomes the span's attributes."""
    text = query if type(query) is str else query_text(query, context)
    normalized, fingerprint, operation, table = normalize(text, system)
    name = f"{operation} {table}" if operation and table else operation or system
    attrs["db.system.name"] = system
    attrs["db.system"] = system
    attrs["db.query.text"] = text if _common.config().capture_sql_values else normalized
    attrs["db.query.fingerprint"] = fingerprint
    attrs["db.operation.name"] = operation or None
    attrs["db.collection.name"] = table or None
    return _common.start(name, _common.CLIENT, attrs)


_traced_statement: Any = None


def _statement_tracer() -> Any:
    """``_native.traced_statement`` (the whole statement span in one native call), or False
    when the agent is off."""
    global _traced_statement
    if _traced_statement is None:
        native = _common.native()
        _traced_statement = getattr(native, "traced_statement", False) if native else False
    return _traced_statement


def traced(
    integration: str, system: str, query: Any, conn_attrs: Callable[[], Mapping[str, Any]],
    fn: Callable[..., Any], *args: Any, **kwargs: Any,
) -> Any:  # fmt: skip
    """Runs ``fn(*args, **kwargs)`` (the driver's execute) inside a statement span.

    Statements the driver runs inside (executemany over execute) are not traced again.
    ``conn_attrs()`` returns the connection's attributes, plus ``_context`` for query_text.
    """
    if _suppress_db.get():
        return fn(*args, **kwargs)
    try:
        attrs = dict(conn_attrs())
        context = attrs.pop("_context", None)
        native = _statement_tracer() if type(query) is str else None
        if not native:
            span = _start(system, query, attrs, context)
    except Exception as err:
        _common.fault(integration, "start", err)
        return fn(*args, **kwargs)
    if native:
        return native(fn, args, kwargs or None, system, query, attrs, _suppress_db,
                      _common.config().capture_sql_values)  # fmt: skip
    return _run(integration, span, fn, *args, **kwargs)


def traced_with(
    integration: str, system: str, query: Any, conn_attrs: Mapping[str, Any],
    fn: Callable[..., Any], *args: Any, **kwargs: Any,
) -> Any:  # fmt: skip
    """``traced`` for a driver that keeps its connection's attributes in a dict (copied here,
    never changed): no callable to build per statement."""
    if type(query) is str and type(conn_attrs) is dict:
        native = _statement_tracer()
        if native:
            return native(fn, args, kwargs or None, system, query, conn_attrs, _suppress_db,
                          _common.config().capture_sql_values)  # fmt: skip
    if _suppress_db.get():
        return fn(*args, **kwargs)
    try:
        span = _start(system, query, dict(conn_attrs), None)
    except Exception as err:
        _common.fault(integration, "start", err)
        return fn(*args, **kwargs)
    return _run(integration, span, fn, *args, **kwargs)


def _run(
    integration: str, span: _common.Span, fn: Callable[..., Any], *args: Any, **kwargs: Any
) -> Any:
    """``fn`` with ``span`` current and driver-level tracing suppressed; ends the span."""
    token = _suppress_db.set(True)
    try:
        result = fn(*args, **kwargs)
    except BaseException as exc:
        _suppress_db.reset(token)
        _common.finish(span, integration, exc)
        raise
    _suppress_db.reset(token)
    try:
        span.end()
    except Exception as err:
        _common.fault(integration, "end", err)
    return result


async def traced_async(
    integration: str, system: str, query: Any, conn_attrs: Callable[[], Mapping[str, Any]],
    fn: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any,
) -> Any:  # fmt: skip
    if _common.suppressed_db():
        return await fn(*args, **kwargs)
    try:
        attrs = dict(conn_attrs())
        span = _start(system, query, attrs, attrs.pop("_context", None))
    except Exception as err:
        _common.fault(integration, "start", err)
        return await fn(*args, **kwargs)
    token = _common._suppress_db.set(True)
    try:
        result = await fn(*args, **kwargs)
    except BaseException as exc:
        _common._suppress_db.reset(token)
        _common.finish(span, integration, exc)
        raise
    _common._suppress_db.reset(token)
    _common.finish(span, integration)
    return result


def server_attrs(info: Any) -> dict[str, Any]:
    """server.address/port and db.namespace from a libpq ``connection.info``."""
    port = getattr(info, "port", None)
    return {
        "server.address": getattr(info, "host", None) or None,
        "server.port": int(port) if port else None,
        "db.namespace": getattr(info, "dbname", None) or None,
    }


def patch() -> None:
    """Nothing to patch: the driver integrations use this module."""


def unpatch() -> None:
    """Nothing was patched."""
