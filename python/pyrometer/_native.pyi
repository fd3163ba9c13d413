"""Typed surface of the C++ extension module ``pyrometer._native``."""

from collections.abc import Callable, Mapping
from contextvars import ContextVar, Token
from typing import Any

ABI_VERSION: int

def normalize_sql(sql: str, db_system: str = "") -> tuple[str, str, str, str]:
    """(normalized text, fingerprint as 16 hex digits, operation, main table); py_sql.cc."""

# ---- tracer (py_tracer.cc, py_span.cc, py_decorator.cc, py_span_context.cc) -----------------
# Public use goes through pyrometer.api; these are the C entry points it wraps.

class Span:
    """A span implemented in C: context manager (start on __enter__, end on __exit__), decorator
    (``span(...)(func)``) and a live record. Made by span()/start_span(), not constructible."""

    trace_id: str  # 32 lowercase hex digits
    span_id: str  # 16 lowercase hex digits
    parent_span_id: str | None
    is_recording: bool
    name: str
    kind: int  # OTLP SpanKind number
    sampled: bool  # head-sampling decision of the trace
    is_local_root: bool
    def __enter__(self) -> Span: ...
    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool: ...
    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]: ...
    def set_attribute(self, key: str, value: Any) -> None: ...
    def set_attributes(self, attributes: Mapping[str, Any]) -> None: ...
    def add_event(self, name: str, attributes: Mapping[str, Any] | None = None) -> None: ...
    def set_status(self, code: str | int, description: str | None = None) -> None: ...
    def record_exception(
        self, exception: BaseException, attributes: Mapping[str, Any] | None = None
    ) -> None: ...
    def update_name(self, name: str) -> None: ...
    def end(self) -> None: ...

class SpanContext:
    """A remote parent from W3C headers (see extract)."""

    trace_id: str
    span_id: str
    trace_flags: int
    sampled: bool
    trace_state: str
    baggage: str

class SpanDecorated:
    """What a sync function decorated with a span becomes (vectorcall; functools.wraps'd)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...

_current_span_var: ContextVar[Span]

def span(
    name: str | Callable[..., Any] | None = None,
    kind: str | int | None = None,
    attributes: Mapping[str, Any] | None = None,
    *,
    parent: Span | SpanContext | None = None,
) -> Any: ...
def start_span(
    name: str,
    kind: str | int | None = None,
    attributes: Mapping[str, Any] | None = None,
    *,
    parent: Span | SpanContext | None = None,
) -> Span: ...
def current_span() -> Span | None: ...
def attach(span: Span) -> Token[Span] | None: ...
def detach(token: Token[Span]) -> None: ...
def set_root_attribute(key: str, value: Any) -> bool: ...
def extract(traceparent: str, tracestate: str = "", baggage: str = "") -> SpanContext | None: ...
def inject() -> tuple[str, str, str] | None:
    """(traceparent, tracestate, baggage) of the current span; '' for absent parts."""

def configure(sampler: str, sampler_arg: str, tail_keep: bool) -> str | None:
    """Sets the head sampler (OTEL_TRACES_SAMPLER names); returns a warning for bad values."""

def flush(timeout_seconds: float) -> bool: ...

# Internal (tests and diagnostics; not a public API).
def _tracer_stats() -> dict[str, int]: ...
def _debug_capture(enable: bool) -> None:
    """TEST ONLY: while enabled, kept traces are also copied into memory (bounded)."""

def _debug_drain() -> list[dict[str, Any]]:
    """TEST ONLY: the captured spans as dicts (name, kind, trace_id, span_id, parent_span_id,
    parent_is_remote, trace_flags, trace_state, start/end_unix_nano, attributes, events,
    status_code, status_message, exception_stack), and forgets them."""

def _set_in_app_prefixes(prefixes: list[str]) -> None: ...
def _set_async_decorator(factory: Callable[..., Any]) -> None: ...
def _set_noop(obj: Any) -> None: ...
def _thread_root(native_tid: int) -> tuple[str, str, str] | None:
    """(trace_id, local root span_id, route) published by that thread, read without the GIL."""
