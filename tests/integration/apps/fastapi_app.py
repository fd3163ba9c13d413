"""A FastAPI service for out-of-process tests (uvicorn under `pyrometer run`)."""

from __future__ import annotations

import os

from fastapi import FastAPI, HTTPException

app = FastAPI()


@app.get("/items/{item_id}")
async def item(item_id: int) -> dict:
    if item_id == 0:
        raise HTTPException(status_code=404, detail="no item 0")
    return {"id": item_id, "pid": os.getpid()}


@app.get("/crash")
async def crash() -> dict:
    stock = {"apples": 0}
    return {"ratio": 1 / stock["apples"]}
