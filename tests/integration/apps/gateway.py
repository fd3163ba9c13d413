"""FastAPI gateway for the cross-service test: calls the Django orders service over httpx."""

from __future__ import annotations

import os

import httpx
from fastapi import FastAPI

app = FastAPI()
ORDERS_URL = os.environ.get("ORDERS_URL", "http://127.0.0.1:8000")


@app.get("/checkout/{order_id}")
async def checkout(order_id: int) -> dict:
    async with httpx.AsyncClient() as client:
        r = await client.get(f"{ORDERS_URL}/orders/{order_id}/")
    return {"order": r.json(), "pid": os.getpid()}
