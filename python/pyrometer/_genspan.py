"""Span decorators for generator and async generator functions (see docs/tracing.md).

The span starts at the first ``next()``/``send()``/``asend()``, is the current span only while
the generator body runs (attached on each resume, detached before each value goes back to the
caller), and ends at exhaustion, ``close()``/``aclose()``, garbage collection or an exception.
The wrappers are generator functions themselves (``inspect.isgeneratorfunction`` stays true) that
re-implement ``yield from`` (PEP 380) by hand, so ``send``/``throw``/``close`` reach the body
unchanged. Python, not C: iteration is not the per-request hot path.
"""

from __future__ import annotations

import functools
from typing import Any, AsyncGenerator, Callable, Generator


def _binders(native: Any) -> tuple[Callable[[Any], Any], Callable[[Any], None]]:
    """attach/detach that tolerate the disabled agent's no-op span (attach needs a real Span)."""
    span_type = native.Span
    attach = native.attach
    detach = native.detach

    def enter(span: Any) -> Any:
        return attach(span) if type(span) is span_type else None

    def leave(token: Any) -> None:
        if token is not None:
            detach(token)

    return enter, leave


def _fail(span: Any, exc: BaseException) -> None:
    """Records an escaping exception (status ERROR; GeneratorExit is not one) and ends the span."""
    span.__exit__(type(exc), exc, exc.__traceback__)


def wrap_generator(
    native: Any,
    func: Callable[..., Generator[Any, Any, Any]],
    name: str,
    kind: int,
    attributes: dict[str, Any] | None,
) -> Callable[..., Generator[Any, Any, Any]]:
    """A generator function running ``func``'s generator inside one span per iteration."""
    start_span = native.start_span
    enter, leave = _binders(native)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        gen = func(*args, **kwargs)
        span = start_span(name, kind, attributes)
        try:
            token = enter(span)
            try:
                value = next(gen)
            finally:
                leave(token)
            while True:
                try:
                    sent = yield value
                except GeneratorExit:
                    token = enter(span)
                    try:
                        gen.close()
                    finally:
                        leave(token)
                    raise
                except BaseException as thrown:  # throw(): delivered to the body as is
                    token = enter(span)
                    try:
                        value = gen.throw(thrown)
                    finally:
                        leave(token)
                else:
                    token = enter(span)
                    try:
                        value = gen.send(sent)
                    finally:
                        leave(token)
        except StopIteration as stop:
            span.end()
            return stop.value
        except GeneratorExit:
            span.end()
            raise
        except BaseException as exc:
            _fail(span, exc)
            raise

    return wrapper


def wrap_async_generator(
    native: Any,
    func: Callable[..., AsyncGenerator[Any, Any]],
    name: str,
    kind: int,
    attributes: dict[str, Any] | None,
) -> Callable[..., AsyncGenerator[Any, Any]]:
    """An async generator function running ``func``'s async generator inside one span."""
    start_span = native.start_span
    enter, leave = _binders(native)

    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
        agen = func(*args, **kwargs)
        span = start_span(name, kind, attributes)
        try:
            token = enter(span)
            try:
                value = await agen.__anext__()
            finally:
                leave(token)
            while True:
                try:
                    sent = yield value
                except GeneratorExit:
                    token = enter(span)
                    try:
                        await agen.aclose()
                    finally:
                        leave(token)
                    raise
                except BaseException as thrown:  # athrow(): delivered to the body as is
                    token = enter(span)
                    try:
                        value = await agen.athrow(thrown)
                    finally:
                        leave(token)
                else:
                    token = enter(span)
                    try:
                        value = await agen.asend(sent)
                    finally:
                        leave(token)
        except StopAsyncIteration:
            span.end()
            return
        except GeneratorExit:
            span.end()
            raise
        except BaseException as exc:
            _fail(span, exc)
            raise

    return wrapper
