"""Settings of the ASGI Django project: raw-SQL views on a sqlite file, locmem templates."""

import os

SECRET_KEY = "test-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "django_asgi.urls"
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
INSTALLED_APPS: list[str] = []
DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["DJANGO_ASGI_DB"]}
}
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "OPTIONS": {
            "loaders": [
                (
                    "django.template.loaders.locmem.Loader",
                    {
                        "user.html": "<p>{{ name }}</p>{% include 'footer.html' %}",
                        "footer.html": "<i>f</i>",
                    },  # fmt: skip
                )
            ]
        },
    }
]
USE_TZ = True
LOGGING_CONFIG = None
