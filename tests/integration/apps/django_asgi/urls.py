"""Sync and async views: the ORM connection, templates, sync_to_async, and unhandled errors."""

from __future__ import annotations

import os

from asgiref.sync import sync_to_async
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import path


def _name(pk: int) -> str:
    with connection.cursor() as cur:
        cur.execute("SELECT name FROM people WHERE id = %s", [pk])
        row = cur.fetchone()
    return row[0] if row else ""


def user(request, pk: int) -> HttpResponse:  # type: ignore[no-untyped-def]
    return render(request, "user.html", {"name": _name(pk)})


async def async_user(request, pk: int) -> JsonResponse:  # type: ignore[no-untyped-def]
    name = await sync_to_async(_name)(pk)
    return JsonResponse({"id": pk, "name": name, "pid": os.getpid()})


def crash(request) -> HttpResponse:  # type: ignore[no-untyped-def]
    divisor = 0
    return HttpResponse(str(1 / divisor))


async def async_crash(request) -> HttpResponse:  # type: ignore[no-untyped-def]
    stock = {"apples": 0}
    return HttpResponse(str(1 / stock["apples"]))


urlpatterns = [
    path("users/<int:pk>/", user),
    path("async/<int:pk>/", async_user),
    path("crash/", crash),
    path("acrash/", async_crash),
]
