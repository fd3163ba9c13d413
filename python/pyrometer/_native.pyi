"""Typed surface of the C++ extension module ``pyrometer._native``."""

ABI_VERSION: int
