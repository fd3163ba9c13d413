"""Fixtures for integration tests; each group lives in its own module and is re-exported here."""

from exported import otlp_receiver  # noqa: F401  (pytest fixture; tests/unit/otlp_receiver.py)
from pyrometer_server import pyrometer_server, pyrometer_server_factory  # noqa: F401
from services import echo_server, postgres, redis_server  # noqa: F401  (pytest fixtures)
from spans import capture, clean_integrations  # noqa: F401  (pytest fixtures)
