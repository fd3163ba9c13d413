"""A Django project served over ASGI (uvicorn + django.core.asgi) for test_django_asgi.py."""
