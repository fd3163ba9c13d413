"""The orders service: an order view that enqueues a Celery task."""

from __future__ import annotations

from celery_app import add
from django.http import JsonResponse
from django.urls import path


def order(request, order_id: int) -> JsonResponse:  # type: ignore[no-untyped-def]
    per_unit = 100 // order_id  # order 0 fails: a 500 from Django
    result = add.delay(order_id, per_unit)
    return JsonResponse({"order_id": order_id, "task_id": result.id})


urlpatterns = [path("orders/<int:order_id>/", order)]
