"""A Celery app for out-of-process tests: a real worker against a real redis-server."""

from __future__ import annotations

import os
import time

from celery import Celery

app = Celery("shop", broker=os.environ.get("BROKER_URL", "redis://127.0.0.1:6379/0"))
app.conf.update(task_default_queue="shop", broker_connection_retry_on_startup=True,
                worker_hijack_root_logger=False, worker_prefetch_multiplier=1)  # fmt: skip


@app.task(name="shop.add")
def add(x: int, y: int) -> int:
    return x + y


@app.task(name="shop.fail")
def fail(order_id: int) -> None:
    reason = "out of stock"
    raise RuntimeError(f"order {order_id}: {reason}")


@app.task(name="shop.flaky", bind=True, max_retries=2, default_retry_delay=0)
def flaky(self, n: int) -> int:  # type: ignore[no-untyped-def]
    if self.request.retries < 1:
        raise self.retry(exc=ValueError("first attempt"))
    return n


@app.task(name="shop.block")
def block(seconds: float) -> None:
    time.sleep(seconds)  # keeps the solo worker busy so later messages wait in the queue
