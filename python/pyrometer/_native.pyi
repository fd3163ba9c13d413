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
def start_asgi_span(scope: Mapping[str, Any]) -> Span:
    """The SERVER span of an ASGI http/websocket connection, started and current."""

def finish_http_span(span: Span, status: int | None, route: str | None) -> None:
    """Sets the response status and route (renaming "{name} {route}"), detaches, ends."""

def start_wsgi_span(environ: Mapping[str, Any]) -> Span:
    """The SERVER span of a WSGI request from its environ, started (not current)."""

def wsgi_start_response(
    start_response: Callable[..., Any],
    span: Span,
    owner: Any,
    on_status: Callable[[Any, int], None],
) -> Callable[..., Any]:
    """The server's start_response, the status noted on ``span`` (and ``owner.status_code``)
    first; a 5xx calls ``on_status(owner, code)`` instead."""

def wsgi_body(
    result: Any, span: Span, owner: Any, on_error: Callable[[Any, BaseException], None]
) -> Any:
    """The app's response iterable with ``span`` current while it runs; ends it at close()."""

def set_http_route(span: Any, verb: str, route: str | None) -> None:
    """``http.route`` = route and the span renamed ``"{verb} {route}"`` (a framework matched the
    URL); None/"" or an ended span: nothing. Bad values are counted, never raised."""

def wsgi_app(
    app: Callable[..., Any],
    owner_type: type,
    on_status: Callable[[Any, int], None],
    on_error: Callable[[Any, BaseException], None],
) -> Callable[[Any, Any], Any]:
    """``app`` with each (environ, start_response) call traced in C: the SERVER span from the
    environ, current while the app runs, carrying an ``owner_type`` request object (see
    ``current_request``); status through a wrapped start_response (5xx: ``on_status``), an
    exception to ``on_error``; ended when the response is built or, streamed, at close(). Other
    call shapes, a disabled agent or a current span that already belongs to a request: the app,
    untouched."""

def wsgi_method(
    function: Callable[..., Any],
    owner_type: type,
    on_status: Callable[[Any, int], None],
    on_error: Callable[[Any, BaseException], None],
) -> Any:
    """A method descriptor for a framework's WSGI method ``function(self, environ,
    start_response)`` (Flask.wsgi_app), traced as ``wsgi_app`` traces an app; bound like a
    function, without a bound method per ``instance.method(...)`` call. ``__doc__``, ``__name__``
    and the rest are ``function``'s."""

def route_method(function: Callable[..., Any], context_var: Any, path: tuple[str, ...]) -> Any:
    """A method descriptor for a framework's dispatch method (Flask.full_dispatch_request): each
    call names the current request's route — ``context_var``'s value, then the attributes
    ``path`` from it — as ``set_http_route`` would (the verb from the request object), then
    returns ``function(self, ...)``. No route (unset var, a None or missing attribute): nothing
    named; another failure is counted (``internal_errors``), never raised."""

def error_method(function: Callable[..., Any]) -> Any:
    """A method descriptor for a framework's exception handler (Flask.handle_user_exception,
    handle_exception): each ``(self, exception)`` call keeps the exception on the current
    request (its ``pending_exc``, recorded on the span if the response is a 5xx), then returns
    ``function(self, exception)``; the exception it raises, if any, passes through with no frame
    of ours. A failure to keep it is counted (``internal_errors``), never raised."""

def asgi_method(
    function: Callable[..., Any],
    on_error: Callable[[Any, BaseException], None],
    fallback: Callable[..., Any],
) -> Any:
    """A method descriptor for a framework's ASGI entry ``function(self, scope, receive, send)``
    (Starlette.__call__): an "http" request with a dict scope is traced as ``trace_asgi`` traces
    it (the instance as owner); any other scope or call shape goes to ``fallback`` with the same
    arguments. Bound like a function; to ``inspect``/``asyncio.iscoroutinefunction`` and
    ``inspect.signature`` it is the async function it wraps. CPython 3.10+ only."""

def current_request() -> Any:
    """The request object ``wsgi_app`` put on the current span (or on the request span it was
    started under), or None; dropped when that span ends."""

def traced_statement(
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any] | None,
    system: str,
    query: str,
    conn_attrs: dict[str, Any],
    suppress: ContextVar[bool],
    capture_values: bool,
) -> Any:
    """fn(*args, **kwargs) inside the statement's CLIENT span (untraced while ``suppress``)."""

def trace_asgi(
    func: Callable[..., Any],
    owner: Any,
    scope: Any,
    receive: Any,
    send: Any,
    on_error: Callable[[Span, BaseException], None],
) -> Any:
    """func(owner, scope, receive, send) (without owner when None) as one traced ASGI http
    request: an awaitable that starts the span when first awaited. CPython >= 3.10 only."""

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

# ---- pipeline: export, RED, runtime probes (py_pipeline.cc) ----------------------------------
# pyrometer.runtime.start_agent(cfg) is the normal way in; flush() above reaches this pipeline.

def start_pipeline(
    service_name: str,
    resource_attributes: Mapping[str, str],
    traces_url: str,
    metrics_url: str,
    logs_url: str,
    headers: Mapping[str, str],
    export_interval_s: float = 5.0,
    metrics_interval_s: float = 10.0,
    flush_timeout_s: float = 2.0,
    max_queue_spans: int = 2048,
    max_queue_logs: int = 2048,
    retry_initial_s: float = 0.5,
    retry_max_s: float = 30.0,
    max_attempts: int = 5,
    gil_sampling: bool = True,
    gil_duty: float = 0.2,
    compression: str = "gzip",
) -> bool:
    """Creates the process-wide pipeline; native threads start on first use. False if it was
    already started. Called with one Config argument, runs pyrometer.runtime.start_agent(cfg)."""

def shutdown() -> None:
    """Flushes (bounded by flush_timeout_s) and joins the native threads; releases the GIL."""

def stop_pipeline() -> None:
    """Alias of shutdown() (api._shutdown)."""

def submit_log(
    level: int,
    message: str,
    attributes: Mapping[str, Any] | None = None,
    trace_id: bytes | None = None,  # 16 raw bytes
    span_id: bytes | None = None,  # 8 raw bytes
    event_name: str = "",
    time_unix_nano: int = 0,
    severity_text: str = "",
) -> bool:
    """Queues one OTLP log record (Python logging level → severity); never blocks."""

def pipeline_stats() -> dict[str, Any]:
    """started, queued, dropped (+ _spans/_logs/_points), sent (+ per signal), requests,
    failed_requests, retries, partial_rejected, errors, last_error, red_overflow,
    exporter_running, shut_down, instance_id."""

def gil_stats() -> dict[str, Any]:
    """supported (and reason when not), samples, held_samples, switches, elapsed_s, held_ratio,
    held_by_thread {native thread id: held samples}; GIL wait sampling: wait_supported (and
    wait_reason when not), wait_ticks, waiting_samples, wait_episodes, wait_episode_seconds,
    wait_read_errors, wait_by_thread {native thread id: (observed ticks, waiting ticks)};
    cumulative since start or fork."""

def record_gc_pause(generation: int, seconds: float) -> None: ...
def record_loop_lag(seconds: float) -> None: ...
def record_python_gauges(
    modules: int, allocated_blocks: int, gc_count0: int, gc_count1: int, gc_count2: int
) -> None:
    """Interpreter gauges sampled by pyrometer.runtime; also refreshes the GIL holder map."""

# ---- gauges and resource (py_gauges.cc) ------------------------------------------------------
# Integrations go through pyrometer.runtime.record_gauge / update_resource.

def record_gauge(
    name: str,
    value: float,
    attributes: Mapping[str, str | int | float | bool] | None = None,
    unit: str = "",
) -> bool:
    """Sets the last value of the series (name, attributes): exported as an OTLP Gauge point at
    every metrics interval until not updated for 3 intervals (at least 30 s). An int value stays
    an int point. Any thread; never blocks. False when the agent is off, or the reading was
    dropped (series limit, empty/long name, non-finite value, >16 attributes) — counted in
    gauge_stats() and reported once. TypeError for a non-number value or non-dict attributes."""

def gauge_stats() -> dict[str, int]:
    """series (live), dropped (readings refused since start or fork)."""

def update_resource(attributes: Mapping[str, str | int | float | bool]) -> bool:
    """Sets resource attributes on everything exported from now on, replacing earlier values of
    the same keys; "service.instance.id" (str) replaces the instance id, "service.name" is
    ignored. For a worker after fork. False when the agent is not started."""

def take_messages() -> list[str]:
    """Native diagnostics not yet logged (each distinct problem once)."""

def _test_emit_spans(
    count: int,
    name: str,
    kind: int = 1,
    attributes: Mapping[str, Any] | None = None,
    duration_s: float = 0.001,
    error: bool = False,
    keep: bool = True,
    spans_per_trace: int = 1,
) -> int:
    """TEST ONLY: finishes synthetic spans through the pipeline; returns the spans queued."""
