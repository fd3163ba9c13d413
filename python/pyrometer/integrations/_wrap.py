"""Attribute wrapping for integrations: replace ``owner.name`` and restore it exactly.

A tiny stand-in for wrapt (not a dependency): the original is kept in a registry so
``unwrap`` restores it, and wrapping twice is a no-op, which makes patch/unpatch idempotent.
"""

from __future__ import annotations

import functools
import threading
from typing import Any, Callable

# (id(owner), name) -> (owner, name, original, was_own_attribute). The owner is kept alive
# by the entry, so its id cannot be reused while wrapped.
_originals: dict[tuple[int, str], tuple[Any, str, Any, bool]] = {}
_lock = threading.Lock()

_MARK = "__pyrometer_wrapped__"


def _own_value(owner: Any, name: str) -> tuple[Any, bool]:
    """The raw attribute (descriptor included) and whether ``owner`` itself defines it."""
    own = getattr(owner, "__dict__", {})
    if name in own:
        return own[name], True
    return getattr(owner, name), False


def wrap(owner: Any, name: str, factory: Callable[[Any], Any]) -> bool:
    """Replace ``owner.name`` with ``factory(original)``.

    ``factory`` receives the plain callable (for a class, the function as looked up on the
    class) and returns the replacement. staticmethod/classmethod are re-wrapped in kind.
    Returns False (and changes nothing) when the attribute is missing or already wrapped.
    Exceptions from ``factory`` propagate: callers are inside patch(), which reports them.
    """
    with _lock:
        key = (id(owner), name)
        if key in _originals:
            return False
        try:
            raw, was_own = _own_value(owner, name)
        except AttributeError:
            return False
        if isinstance(raw, staticmethod):
            replacement: Any = staticmethod(factory(raw.__func__))
        elif isinstance(raw, classmethod):
            replacement = classmethod(factory(raw.__func__))
        else:
            replacement = factory(raw)
        inner = getattr(replacement, "__func__", replacement)
        try:
            setattr(inner, _MARK, True)
        except (AttributeError, TypeError):
            pass  # builtins cannot carry the mark; the registry still knows
        setattr(owner, name, replacement)
        _originals[key] = (owner, name, raw, was_own)
        return True


def unwrap(owner: Any, name: str) -> bool:
    """Restore what ``wrap`` replaced. Returns False if ``owner.name`` was not wrapped."""
    with _lock:
        entry = _originals.pop((id(owner), name), None)
        if entry is None:
            return False
        _, _, original, was_own = entry
        if was_own:
            setattr(owner, name, original)
        else:
            try:
                delattr(owner, name)  # it was inherited: uncover the base class's again
            except AttributeError:
                setattr(owner, name, original)
        return True


def unwrap_all(owner: Any) -> None:
    """Restore every attribute of ``owner`` that is wrapped."""
    with _lock:
        names = [n for (oid, n) in _originals if oid == id(owner)]
    for name in names:
        unwrap(owner, name)


def is_wrapped(owner: Any, name: str) -> bool:
    with _lock:
        return (id(owner), name) in _originals


def original(owner: Any, name: str) -> Any:
    """The unwrapped attribute (for tests and for integrations that chain)."""
    with _lock:
        entry = _originals.get((id(owner), name))
    return getattr(owner, name) if entry is None else entry[2]


def wraps(fn: Callable[..., Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """functools.wraps that tolerates callables without the usual metadata."""

    def deco(wrapper: Callable[..., Any]) -> Callable[..., Any]:
        try:
            return functools.wraps(fn)(wrapper)
        except (AttributeError, TypeError):
            return wrapper

    return deco
