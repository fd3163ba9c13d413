"""Pyrometer: self-hosted APM for Python services with a C++ core.

The public API lives in :mod:`pyrometer.api`; importing this package has no side effects.
"""

__version__ = "0.1.0"
