"""A minimal Django project for the cross-service test (served by gunicorn)."""
