"""Target for the multiprocessing "spawn" test: a fresh interpreter starts its own pipeline."""

from __future__ import annotations

import os


def work(endpoint: str) -> None:
    from pyrometer import _native, runtime
    from pyrometer.config import Config

    runtime.start_agent(
        Config(
            service_name="spawned",
            endpoint=endpoint,
            traces_endpoint=endpoint + "/v1/traces",
            metrics_endpoint=endpoint + "/v1/metrics",
            logs_endpoint=endpoint + "/v1/logs",
            export_interval=60.0,
        )
    )
    _native._test_emit_spans(7, "spawned", attributes={"pid": os.getpid()})
