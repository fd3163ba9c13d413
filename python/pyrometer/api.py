"""Pyrometer's public tracing API: spans, the current span, user/tags, W3C propagation, flush.

Thin on purpose: ``span`` *is* the C function ``pyrometer._native.span`` and spans are C objects,
so ``with pyrometer.span("x"):`` costs C calls only. With ``PYROMETER_ENABLED=false`` (or
``_start(cfg)`` with ``cfg.enabled`` false) every function here returns or acts on a no-op span
and nothing native runs.

Span attributes: str, int, float, bool, or a list/tuple of them. A list mixing types is stored
with every element converted to str (OTLP arrays are homogeneous); None values are dropped; any
other object is stored as ``str(value)``.

Local tail keep: a trace that head sampling drops is still exported when one of its spans has
status ERROR, or carries an attribute or event named ``pyrometer.insight``, or its local root
lasted longer than the running p99 of its endpoint. The local root then carries
``pyrometer.keep_reason`` = ``sampled`` | ``error`` | ``insight`` | ``slow``.

The full reference (context rules, decorators, propagation) is docs/tracing.md.
"""

from __future__ import annotations

import enum
import functools
import os
import sys
import sysconfig
from typing import Any, Callable, Iterable, Mapping, MutableMapping, Union

from pyrometer import _logging

__all__ = [
    "SpanKind",
    "StatusCode",
    "NoopSpan",
    "span",
    "trace",
    "start_span",
    "start_server_span",
    "current_span",
    "set_attribute",
    "record_exception",
    "set_user",
    "set_tag",
    "inject",
    "extract",
    "attach",
    "detach",
    "flush",
]


class SpanKind(enum.IntEnum):
    """OTLP span kinds (same numbers as the protocol). Strings like "server" work too."""

    INTERNAL = 1
    SERVER = 2
    CLIENT = 3
    PRODUCER = 4
    CONSUMER = 5


class StatusCode(enum.IntEnum):
    """OTLP status codes, for ``Span.set_status``. Strings "unset"/"ok"/"error" work too."""

    UNSET = 0
    OK = 1
    ERROR = 2


Kind = Union[str, int, SpanKind]


class NoopSpan:
    """Accepts every span call and does nothing: what you get with no current span or when
    Pyrometer is disabled. Never raises; usable as a context manager and as a decorator."""

    __slots__ = ()
    trace_id = "0" * 32
    span_id = "0" * 16
    parent_span_id = None
    is_recording = False
    sampled = False
    is_local_root = False
    name = ""
    kind = int(SpanKind.INTERNAL)

    def __enter__(self) -> NoopSpan:
        return self

    def __exit__(self, *exc: object) -> bool:
        return False

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        return func

    def set_attribute(self, key: str, value: Any) -> None:
        pass

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        pass

    def add_event(self, name: str, attributes: Mapping[str, Any] | None = None) -> None:
        pass

    def set_status(self, code: Any, description: str | None = None) -> None:
        pass

    def record_exception(
        self, exception: BaseException, attributes: Mapping[str, Any] | None = None
    ) -> None:
        pass

    def update_name(self, name: str) -> None:
        pass

    def end(self) -> None:
        pass

    def __repr__(self) -> str:
        return "<pyrometer.NoopSpan>"


_NOOP = NoopSpan()


def _env_disabled() -> bool:
    value = os.environ.get("PYROMETER_ENABLED", "").strip().lower()
    return value in ("0", "false", "no", "off")


def _library_roots() -> list[str]:
    """Directories whose frames are not the application's (stdlib, installed packages, us)."""
    roots: set[str] = set()
    paths = sysconfig.get_paths()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = paths.get(key)
        if path:
            roots.add(path)
            roots.add(os.path.realpath(path))
    ours = os.path.dirname(os.path.abspath(__file__))
    roots.add(ours)
    roots.add(os.path.realpath(ours))
    return sorted(roots)


def _async_wrapper(
    func: Callable[..., Any], name: str, kind: int, attributes: dict[str, Any] | None
) -> Callable[..., Any]:
    """The decorator for ``async def``: the await dominates, so a Python wrapper is fine.

    The C decorator also sends generator and async generator functions here: their span must
    cover the iteration, not the creation of the generator object (``_genspan``).
    """
    import inspect

    from pyrometer import _genspan

    if inspect.isasyncgenfunction(func):
        return _genspan.wrap_async_generator(_native, func, name, kind, attributes)
    if inspect.isgeneratorfunction(func):
        return _genspan.wrap_generator(_native, func, name, kind, attributes)
    native_span = _native.span  # type: ignore[union-attr]

    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        with native_span(name, kind, attributes):
            return await func(*args, **kwargs)

    return wrapper


def _noop_span(name: Any = None, kind: Kind = "internal", attributes: Any = None, **kw: Any) -> Any:
    """span() while disabled: the no-op span; a bare decorator returns the function as is."""
    if name is not None and not isinstance(name, str) and callable(name):
        return name
    return _NOOP


_native: Any = None
if not _env_disabled():
    try:
        from pyrometer import _native
    except ImportError as exc:  # a build for another Python: run untraced, say it once
        _logging.report_once("api.import", "pyrometer: native module unavailable; tracing off", exc)
        _native = None

if _native is not None:
    _native._set_async_decorator(_async_wrapper)
    _native._set_in_app_prefixes(_library_roots())
    #: ``span(name, kind="internal", attributes=None, *, parent=None)`` -> Span. A context
    #: manager (``with span("x"):``), a decorator (``@span("x")``, or bare ``@span``) for sync
    #: and async functions. Implemented in C.
    span: Callable[..., Any] = _native.span
    _native_start_span: Callable[..., Any] = _native.start_span
else:
    span = _noop_span

    def _native_start_span(*args: Any, **kwargs: Any) -> Any:
        return _NOOP


#: Decorator alias of :func:`span`: ``@pyrometer.trace`` or ``@pyrometer.trace("name")``.
trace = span


def start_span(
    name: str,
    kind: Kind = "internal",
    attributes: Mapping[str, Any] | None = None,
    parent: Any = None,
) -> Any:
    """A started span that is NOT current: end it with ``.end()``, or ``with`` it to make it
    current for a block. ``parent``: a Span or a SpanContext (from :func:`extract`); default
    the current span."""
    if isinstance(parent, NoopSpan):  # e.g. current_span() with nothing current
        parent = None
    return _native_start_span(name, kind, attributes, parent=parent)


def current_span() -> Any:
    """The current span, or a no-op span. Never None, never raises."""
    if _native is None:
        return _NOOP
    try:
        s = _native.current_span()
    except Exception:  # noqa: BLE001 - documented never to raise
        return _NOOP
    return _NOOP if s is None else s


def set_attribute(key: str, value: Any) -> None:
    """Sets an attribute on the current span (no-op without one)."""
    current_span().set_attribute(key, value)


def record_exception(exc: BaseException | None = None) -> None:
    """Records ``exc`` (default: the exception being handled) on the current span: an OTel
    ``exception`` event with type, message, stack text and structured frames; status ERROR."""
    if exc is None:
        exc = sys.exc_info()[1]
        if exc is None:
            return
    current_span().record_exception(exc)


def set_user(id: Any, email: str | None = None, name: str | None = None) -> None:  # noqa: A002
    """Tags the current local root (the request) with the user: ``enduser.id``, ``user.email``,
    ``user.name``. Applied when the root ends; no-op without a current span."""
    if _native is None:
        return
    _native.set_root_attribute("enduser.id", str(id))
    if email is not None:
        _native.set_root_attribute("user.email", email)
    if name is not None:
        _native.set_root_attribute("user.name", name)


def set_tag(key: str, value: Any) -> None:
    """Sets ``key`` on the current local root (the request), wherever the caller is nested."""
    if _native is not None:
        _native.set_root_attribute(key, value)


def _header(headers: Any, name: str) -> str | None:
    """Case-insensitive lookup in a mapping or an iterable of pairs; bytes are decoded."""
    value: Any = None
    if isinstance(headers, Mapping):
        value = headers.get(name)
        if value is None:
            value = headers.get(name.title())
        if value is None:
            for k, v in headers.items():
                key = k.decode("latin-1") if isinstance(k, (bytes, bytearray)) else str(k)
                if key.lower() == name:
                    value = v
                    break
    elif isinstance(headers, Iterable):
        parts = []
        for k, v in headers:
            key = k.decode("latin-1") if isinstance(k, (bytes, bytearray)) else str(k)
            if key.lower() == name:
                parts.append(v.decode("latin-1") if isinstance(v, (bytes, bytearray)) else v)
        value = ",".join(parts) if parts else None
    if isinstance(value, (bytes, bytearray)):
        value = value.decode("latin-1")
    return value if isinstance(value, str) else None


def extract(headers: Any) -> Any:
    """The remote parent in W3C ``traceparent``/``tracestate``/``baggage`` headers (a mapping,
    any key case, or (name, value) pairs; str or bytes), as a SpanContext; None if absent or
    invalid. Pass it as ``parent=`` to :func:`start_span`."""
    if _native is None or headers is None:
        return None
    traceparent = _header(headers, "traceparent")
    if not traceparent:
        return None
    return _native.extract(
        traceparent, _header(headers, "tracestate") or "", _header(headers, "baggage") or ""
    )


def inject(headers: MutableMapping[str, str]) -> None:
    """Writes the current span's ``traceparent`` (and ``tracestate``/``baggage`` when present)
    into ``headers``, for an outgoing request or message."""
    if _native is None:
        return
    ctx = _native.inject()
    if ctx is None:
        return
    traceparent, tracestate, baggage = ctx
    headers["traceparent"] = traceparent
    if tracestate:
        headers["tracestate"] = tracestate
    if baggage:
        headers["baggage"] = baggage


def start_server_span(
    name: str,
    headers: Any,
    kind: Kind = "server",
    attributes: Mapping[str, Any] | None = None,
) -> Any:
    """For integrations: a started span continuing the remote parent in ``headers`` (a new trace
    if there is none). Not current: pair with :func:`attach`/:func:`detach`, then ``end()``."""
    return _native_start_span(name, kind, attributes, parent=extract(headers))


def attach(span: Any) -> Any:
    """Makes ``span`` current; returns a token for :func:`detach`."""
    if _native is None or isinstance(span, NoopSpan):
        return None
    return _native.attach(span)


def detach(token: Any) -> None:
    """Restores the span that was current before :func:`attach`. Never raises and never logs,
    even when the token was created in another context (then the previous span is restored)."""
    if _native is not None and token is not None:
        _native.detach(token)


def flush(timeout: float = 2.0) -> bool:
    """Exports what is queued now, waiting at most ``timeout`` seconds. True if all was sent."""
    if _native is None:
        return True
    return bool(_native.flush(float(timeout)))


def _disable() -> None:
    """Switches every entry point to the no-op span (cfg.enabled is false)."""
    global span, trace, _native_start_span
    if _native is not None:
        _native._set_noop(_NOOP)

    def _noop_span(
        name: Any = None, kind: Kind = "internal", attributes: Any = None, **kw: Any
    ) -> Any:
        if name is not None and not isinstance(name, str) and callable(name):
            return name
        return _NOOP

    span = trace = _noop_span
    _native_start_span = lambda *a, **k: _NOOP  # noqa: E731
    pkg = sys.modules.get("pyrometer")
    for attr in ("span", "trace"):
        if pkg is not None and attr in vars(pkg):
            setattr(pkg, attr, _noop_span)


def _start(cfg: Any) -> None:
    """Called by the bootstrap with the loaded Config: sampler, tail keep, then the pipeline."""
    if not getattr(cfg, "enabled", True):
        _disable()
        return
    if _native is None:
        return
    sampler = getattr(cfg, "traces_sampler", None) or getattr(cfg, "sampler", "") or ""
    arg = getattr(cfg, "traces_sampler_arg", None)
    if arg is None:
        arg = getattr(cfg, "sampler_arg", "")
    warning = _native.configure(
        str(sampler), "" if arg is None else str(arg), bool(getattr(cfg, "tail_keep", True))
    )
    if warning:
        _logging.get_logger().warning("pyrometer: %s", warning)
    start_pipeline = getattr(_native, "start_pipeline", None)
    if start_pipeline is not None:
        start_pipeline(cfg)


def _shutdown() -> None:
    """Flushes (bounded) and stops the pipeline if running; ``pyrometer.auto.uninstall()`` calls it.

    Exit-time flushing is not done here: ``pyrometer.runtime`` registers its own exit hooks.
    """
    if _native is None:
        return
    stop_pipeline = getattr(_native, "stop_pipeline", None)
    if stop_pipeline is not None:
        stop_pipeline()
    else:
        _native.flush(2.0)
