"""Django integration: a real Django project (settings, URLconf, templates, sqlite ORM
connection) on a real WSGI server, traced in-process."""

from __future__ import annotations

import threading
from typing import Any, Iterator

import django
import pytest
import requests
from django.conf import settings
from django.db import connection
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import path, re_path
from services import free_port
from spans import Capture, tree
from werkzeug.serving import make_server

from pyrometer.integrations import django as django_integration

pytestmark = pytest.mark.usefixtures("clean_integrations")

REMOTE_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
REMOTE_PARENT = "00f067aa0ba902b7"
TEMPLATES = {"user.html": "<p>{{ name }}</p>{% include 'footer.html' %}", "footer.html": "<i>f</i>"}


def user(request: Any, pk: int) -> HttpResponse:
    with connection.cursor() as cur:
        cur.execute("SELECT name FROM people WHERE id = %s", [pk])
        (name,) = cur.fetchone()
    return render(request, "user.html", {"name": name})


def crash(request: Any) -> HttpResponse:
    divisor = 0
    return HttpResponse(str(1 / divisor))


def archive(request: Any, year: str) -> HttpResponse:
    return HttpResponse(year)


def stream(request: Any) -> StreamingHttpResponse:
    return StreamingHttpResponse(iter([b"a", b"b"]))


urlpatterns = [
    path("users/<int:pk>/", user),
    path("crash/", crash),
    re_path(r"^archive/(?P<year>[0-9]{4})/$", archive),
    path("stream/", stream),
]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    db = tmp_path_factory.mktemp("django") / "db.sqlite3"
    if not settings.configured:
        settings.configure(
            DEBUG=False,
            ALLOWED_HOSTS=["127.0.0.1", "testserver"],
            ROOT_URLCONF=__name__,
            SECRET_KEY="test",
            MIDDLEWARE=["django.middleware.common.CommonMiddleware"],
            DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(db)}},
            TEMPLATES=[{
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "OPTIONS": {"loaders": [("django.template.loaders.locmem.Loader", TEMPLATES)]},
            }],
            LOGGING_CONFIG=None,
        )  # fmt: skip
        django.setup()
    with connection.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS people (id integer, name text)")
        cur.execute("INSERT INTO people VALUES (7, 'ada')")
    connection.close()
    yield


class Server:
    def __init__(self) -> None:
        from django.core.handlers.wsgi import WSGIHandler

        self.port = free_port()
        self.httpd = make_server("127.0.0.1", self.port, WSGIHandler(), threaded=False)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.thread.join(10)


@pytest.fixture
def served(project: None) -> Iterator[Server]:
    django_integration.patch()
    connection.close()  # the next connection is created patched
    server = Server()
    try:
        yield server
    finally:
        server.stop()
        django_integration.unpatch()


def test_view_with_orm_and_templates(served: Server, capture: Capture) -> None:
    tp = f"00-{REMOTE_TRACE}-{REMOTE_PARENT}-01"
    r = requests.get(served.base + "/users/7/", headers={"traceparent": tp})
    assert r.text == "<p>ada</p><i>f</i>"
    assert settings.MIDDLEWARE[0] == django_integration.MIDDLEWARE
    spans = capture.wait(4)
    root = "GET /users/<int:pk>/"
    assert tree(spans) == [
        (root, "<remote>"),
        ("SELECT people", root),
        ("render footer.html", "render user.html"),
        ("render user.html", root),
    ]
    server = capture.one(root, spans)
    assert server.trace_id == REMOTE_TRACE and server.parent_id == REMOTE_PARENT
    assert server.kind == "server" and server.status == "unset"
    assert server.attributes["http.route"] == "/users/<int:pk>/"
    assert server.attributes["http.response.status_code"] == 200
    assert server.attributes["url.path"] == "/users/7/"
    db = capture.one("SELECT people", spans)
    assert db.kind == "client" and db.attributes["db.system.name"] == "sqlite"
    assert db.attributes["db.query.text"] == "SELECT name FROM people WHERE id = ?"


def test_regex_route_and_404(served: Server, capture: Capture) -> None:
    assert requests.get(served.base + "/archive/2024/").text == "2024"
    assert requests.get(served.base + "/nowhere/").status_code == 404
    spans = capture.wait(3)
    assert tree(spans) == [
        ("GET", None),
        ("GET /archive/(?P<year>[0-9]{4})/$", None),
        ("render <string>", "GET"),  # Django's built-in 404 page
    ]
    assert capture.one("GET", spans).status == "unset"


def test_exception_becomes_500_with_stack(served: Server, capture: Capture) -> None:
    r = requests.get(served.base + "/crash/")
    assert r.status_code == 500
    (span,) = capture.wait(1)
    assert span.name == "GET /crash/" and span.status == "error"
    assert span.attributes["error.type"] == "ZeroDivisionError"
    frame = [f for f in span.frames() if f["in_app"]][-1]
    assert frame["function"] == "crash" and frame["locals"]["divisor"] == "0"


def test_streaming_response(served: Server, capture: Capture) -> None:
    assert requests.get(served.base + "/stream/").text == "ab"
    (span,) = capture.wait(1)
    assert span.name == "GET /stream/" and span.attributes["http.response.status_code"] == 200


def test_transparent(project: None, capture: Capture) -> None:
    from django.test import Client

    def scenario() -> list[object]:
        out = []
        for p in ("/users/7/", "/crash/", "/nowhere/", "/archive/1999/"):
            r = Client(raise_request_exception=False).get(p)
            out.append((r.status_code, r.content, sorted(r.headers.items())))
        return out

    plain = scenario()
    django_integration.patch()
    connection.close()
    try:
        traced = scenario()
    finally:
        django_integration.unpatch()
    assert traced == plain
    assert len(capture.drain()) >= 4
