"""Flask integration: a real Flask app on a real werkzeug server, traced in-process."""

from __future__ import annotations

import threading
import traceback
from typing import Any, Iterator

import flask
import pytest
import requests
from services import free_port
from spans import Capture, tree
from werkzeug.serving import make_server

from pyrometer import _importhook as hook
from pyrometer import _logging, api
from pyrometer.integrations import _wrap
from pyrometer.integrations import flask as flask_integration

pytestmark = pytest.mark.usefixtures("clean_integrations")

REMOTE_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
REMOTE_PARENT = "00f067aa0ba902b7"


class Boom(Exception):
    pass


def make_app() -> flask.Flask:
    app = flask.Flask("shop")

    @app.get("/users/<int:user_id>")
    def user(user_id: int) -> Any:
        return {"id": user_id}, 200, {"X-App": "yes"}

    @app.get("/crash/<name>")
    def crash(name: str) -> Any:
        secret_password = "hunter2"  # noqa: F841  (must be redacted from captured locals)
        order_total = 42
        raise ValueError(f"bad order {order_total} for {name}")

    @app.errorhandler(Boom)
    def on_boom(e: Boom) -> Any:
        return "unavailable", 503

    @app.get("/handled")
    def handled() -> Any:
        raise Boom("backend down")

    @app.get("/forbidden")
    def forbidden() -> Any:
        flask.abort(403)

    @app.get("/stream")
    def stream() -> Any:
        def chunks() -> Iterator[str]:
            for i in range(3):
                with api.span(f"chunk {i}"):
                    yield f"{i}\n"

        return flask.Response(chunks(), mimetype="text/plain")

    return app


class Server:
    def __init__(self, app: flask.Flask) -> None:
        self.port = free_port()
        self.httpd = make_server("127.0.0.1", self.port, app, threaded=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.thread.join(10)


@pytest.fixture
def served() -> Iterator[Server]:
    flask_integration.patch()
    server = Server(make_app())
    try:
        yield server
    finally:
        server.stop()
        flask_integration.unpatch()


def test_route_names_the_server_span(served: Server, capture: Capture) -> None:
    r = requests.get(served.base + "/users/7", headers={"User-Agent": "t/1"})
    assert r.status_code == 200 and r.json() == {"id": 7}
    (span,) = capture.wait(1)
    assert span.name == "GET /users/<int:user_id>"
    assert span.kind == "server"
    assert span.parent_id is None
    assert span.status == "unset"
    a = span.attributes
    assert a["http.request.method"] == "GET"
    assert a["http.route"] == "/users/<int:user_id>"
    assert a["http.response.status_code"] == 200
    assert a["url.path"] == "/users/7"
    assert a["url.scheme"] == "http"
    assert a["server.address"] == "127.0.0.1"
    assert a["server.port"] == served.port
    assert a["client.address"] == "127.0.0.1"
    assert a["user_agent.original"] == "t/1"


def test_incoming_traceparent_is_continued(served: Server, capture: Capture) -> None:
    tp = f"00-{REMOTE_TRACE}-{REMOTE_PARENT}-01"
    assert requests.get(served.base + "/users/1", headers={"traceparent": tp}).status_code == 200
    (span,) = capture.wait(1)
    assert span.trace_id == REMOTE_TRACE
    assert span.parent_id == REMOTE_PARENT


def test_unhandled_exception_gives_500_and_structured_stack(
    served: Server, capture: Capture
) -> None:
    r = requests.get(served.base + "/crash/bob")
    assert r.status_code == 500
    (span,) = capture.wait(1)
    assert span.name == "GET /crash/<name>"
    assert span.status == "error"
    assert span.attributes["http.response.status_code"] == 500
    assert span.attributes["error.type"] == "ValueError"
    exc = span.exception()
    assert exc["exception.type"].endswith("ValueError")
    assert "bad order 42 for bob" in exc["exception.message"]
    frames = span.frames()
    app_frames = [f for f in frames if f["in_app"]]
    assert app_frames[-1]["function"] == "crash"
    assert app_frames[-1]["file"] == __file__
    assert "raise ValueError" in app_frames[-1]["source"]
    assert app_frames[-1]["locals"]["order_total"] == "42"
    assert app_frames[-1]["locals"]["name"] == "'bob'"
    assert app_frames[-1]["locals"]["secret_password"] == "[redacted]"
    assert any(not f["in_app"] and "flask" in f["file"] for f in frames)
    assert all("locals" not in f for f in frames if not f["in_app"])


def test_locals_off(served: Server, capture: Capture, monkeypatch: pytest.MonkeyPatch) -> None:
    from pyrometer.integrations import _common

    class Cfg:
        capture_locals = False

    monkeypatch.setattr(_common, "config", lambda: Cfg())
    assert requests.get(served.base + "/crash/x").status_code == 500
    (span,) = capture.wait(1)
    assert all("locals" not in f for f in span.frames())


def test_error_handled_by_flask_handler_is_still_an_error(served: Server, capture: Capture) -> None:
    r = requests.get(served.base + "/handled")
    assert (r.status_code, r.text) == (503, "unavailable")
    (span,) = capture.wait(1)
    assert span.status == "error"
    assert span.attributes["http.response.status_code"] == 503
    assert span.exception()["exception.type"].endswith("Boom")


def test_4xx_is_not_a_server_error(served: Server, capture: Capture) -> None:
    assert requests.get(served.base + "/forbidden").status_code == 403
    assert requests.get(served.base + "/nowhere").status_code == 404
    forbidden, missing = sorted(capture.wait(2), key=lambda s: -len(s.name))
    assert forbidden.name == "GET /forbidden" and forbidden.status == "unset"
    assert missing.name == "GET" and missing.status == "unset"
    assert "http.route" not in missing.attributes
    assert missing.attributes["http.response.status_code"] == 404


def test_streamed_body_ends_span_on_close(served: Server, capture: Capture) -> None:
    r = requests.get(served.base + "/stream")
    assert r.text == "0\n1\n2\n"
    spans = capture.wait(4)
    assert tree(spans) == [
        ("GET /stream", None),
        ("chunk 0", "GET /stream"),  # produced after the view returned, still in the request
        ("chunk 1", "GET /stream"),
        ("chunk 2", "GET /stream"),
    ]
    server = capture.one("GET /stream", spans)
    assert server.attributes["http.response.status_code"] == 200


def test_nested_spans_parent_to_the_request(served: Server, capture: Capture) -> None:
    from pyrometer import api

    app = served.httpd.app

    @app.get("/work")
    def work() -> Any:
        with api.span("compute"):
            pass
        return "done"

    assert requests.get(served.base + "/work").text == "done"
    spans = capture.wait(2)
    assert tree(spans) == [("GET /work", None), ("compute", "GET /work")]
    assert len({s.trace_id for s in spans}) == 1


def _observable(app: flask.Flask, path: str) -> tuple[int, bytes, dict[str, str]]:
    with app.test_client() as client:
        r = client.get(path)
        r.close()  # before reading: the streamed body is closed mid-way (a regression case)
        return r.status_code, r.data, {k: v for k, v in r.headers.items() if k != "Date"}


PATHS = ["/users/3", "/crash/z", "/handled", "/forbidden", "/stream", "/x"]


@pytest.mark.parametrize("path", PATHS)
def test_transparent(path: str, capture: Capture) -> None:
    plain = _observable(make_app(), path)
    flask_integration.patch()
    try:
        traced = _observable(make_app(), path)
    finally:
        flask_integration.unpatch()
    assert traced == plain
    servers = [s for s in capture.drain() if s.kind == "server"]
    assert len(servers) == 1  # the patched run was traced, the plain one not


def _logged_traceback(app: flask.Flask, path: str) -> list[tuple[str, str]]:
    """(file, function) of each frame in the traceback Flask logs for `path`'s 500."""
    logged: list[Any] = []
    app.log_exception = logged.append  # type: ignore[method-assign]  # what Flask logs, as given
    with app.test_client() as client:
        response = client.get(path)
        response.close()  # ends the request's span
        assert response.status_code == 500
    ((_, _, tb),) = logged
    return [(f.filename, f.name) for f in traceback.extract_tb(tb)]


def test_the_logged_traceback_is_the_apps_own(capture: Capture) -> None:
    # Flask's hooks are native: no frame of ours in the traceback the app logs for a 500.
    plain = _logged_traceback(make_app(), "/crash/z")
    flask_integration.patch()
    try:
        traced = _logged_traceback(make_app(), "/crash/z")
    finally:
        flask_integration.unpatch()
    assert traced == plain
    assert plain[-1][1] == "crash"
    (server,) = [s for s in capture.drain() if s.kind == "server"]
    assert server.exception()["exception.type"].endswith("ValueError")


def test_patch_is_idempotent_and_unpatch_restores() -> None:
    before = flask.Flask.wsgi_app
    flask_integration.patch()
    patched = flask.Flask.wsgi_app
    flask_integration.patch()
    assert flask.Flask.wsgi_app is patched and patched is not before
    flask_integration.unpatch()
    flask_integration.unpatch()
    assert flask.Flask.wsgi_app is before


def test_failed_patch_reports_once_and_leaves_flask_working(
    monkeypatch: pytest.MonkeyPatch, capture: Capture
) -> None:
    real_wrap = _wrap.wrap

    def failing_wrap(owner: Any, name: str, factory: Any) -> bool:
        if name == "handle_exception":
            raise RuntimeError("simulated patch failure")
        return real_wrap(owner, name, factory)

    monkeypatch.setattr(_wrap, "wrap", failing_wrap)
    before = dict(flask.Flask.__dict__)
    _logging.reset_counts()
    assert hook.run_patch("flask", "pyrometer.integrations.flask") is False
    assert hook.run_patch("flask", "pyrometer.integrations.flask") is False
    counts = _logging.error_counts()
    assert counts == {"patch:pyrometer.integrations.flask": 2}
    assert dict(flask.Flask.__dict__) == before  # fully rolled back
    assert _observable(make_app(), "/users/5")[0] == 200
    assert capture.drain() == []
