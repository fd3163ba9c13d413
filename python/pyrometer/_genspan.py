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
from typing import Any, AsyncGenerator, Awaitable, Callable, Generator


def _resumers(native: Any) -> tuple[Callable[..., Any], Callable[..., Awaitable[Any]]]:
    """``resume(span, step, *args)`` runs one step of the wrapped body (next/send/throw/close)
    with ``span`` current, and ``aresume`` awaits one; both tolerate the disabled agent's no-op
    span (attach needs a real Span)."""
    span_type = native.Span
    attach = native.attach
    detach = native.detach

    def resume(span: Any, step: Callable[..., Any], *args: Any) -> Any:
        token = attach(span) if type(span) is span_type else None
        try:
            return step(*args)
        finally:
            if token is not None:
                detach(token)

    async def aresume(span: Any, step: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        token = attach(span) if type(span) is span_type else None
        try:
            return await step(*args)
        finally:
            if token is not None:
                detach(token)

    return resume, aresume


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
    resume, _ = _resumers(native)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        gen = func(*args, **kwargs)
        span = start_span(name, kind, attributes)
        try:
            value = resume(span, next, gen)
            while True:
                try:
                    sent = yield value
                except GeneratorExit:
                    resume(span, gen.close)
                    raise
                except BaseException as thrown:  # throw(): delivered to the body as is
                    value = resume(span, gen.throw, thrown)
                else:
                    value = resume(span, gen.send, sent)
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
    _, aresume = _resumers(native)

    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
        agen = func(*args, **kwargs)
        span = start_span(name, kind, attributes)
        try:
            value = await aresume(span, agen.__anext__)
            while True:
                try:
                    sent = yield value
                except GeneratorExit:
                    await aresume(span, agen.aclose)
                    raise
                except BaseException as thrown:  # athrow(): delivered to the body as is
                    value = await aresume(span, agen.athrow, thrown)
                else:
                    value = await aresume(span, agen.asend, sent)
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
