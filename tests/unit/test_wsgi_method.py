"""_native.wsgi_method, _native.route_method and _native.error_method: a framework's WSGI
method, its dispatch method and its exception handlers, traced, route-named and error-noting in
C, behaving as the functions they replace (binding, introspection, call shapes, results and
exceptions unchanged)."""

from __future__ import annotations

import contextvars
import traceback
from typing import Any, Callable

import pytest
import tracer_fixtures
from test_wsgi_call import environ, serve, traced
from tracer_fixtures import Captured

from pyrometer import _native
from pyrometer.integrations import _common, wsgi

captured = tracer_fixtures.captured  # the fixture, used by name

_context: contextvars.ContextVar[Any] = contextvars.ContextVar("framework_request_context")


class Rule:
    def __init__(self, rule: Any) -> None:
        self.rule = rule


class Request:
    def __init__(self, rule: Any) -> None:
        self.url_rule = rule


class Context:
    def __init__(self, request: Any) -> None:
        self.request = request


def framework(route: Any = "/items/<id>") -> type:
    """A Flask-shaped class whose wsgi_app and full_dispatch_request are wrapped natively."""

    class App:
        def __init__(self) -> None:
            self.dispatched: list[Any] = []

        def wsgi_app(self, env: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            """The app's WSGI entry."""
            token = _context.set(Context(Request(Rule(route) if route is not None else None)))
            try:
                body = self.full_dispatch_request()
            finally:
                _context.reset(token)
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [body]

        def full_dispatch_request(self) -> bytes:
            self.dispatched.append(wsgi.current_request())
            return b"view"

        def __call__(self, env: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            return self.wsgi_app(env, start_response)

    original_wsgi, original_dispatch = App.wsgi_app, App.full_dispatch_request
    App.wsgi_app = _native.wsgi_method(  # type: ignore[method-assign]
        original_wsgi, _common.Span, wsgi.set_status, wsgi._fail
    )
    App.full_dispatch_request = _native.route_method(  # type: ignore[method-assign]
        original_dispatch, _context, ("request", "url_rule", "rule")
    )
    return App


def test_a_request_through_the_method_is_traced_and_named_by_its_route(
    captured: Captured,
) -> None:
    app = framework()()
    chunks, server = serve(app)
    assert chunks == [b"view"] and server.calls == [("200 OK", [("Content-Type", "text/plain")])]
    ((root,),) = [captured.drain()]
    assert root["name"] == "GET /items/<id>" and root["kind"] == "server"
    assert root["attributes"]["http.route"] == "/items/<id>"
    assert root["attributes"]["http.response.status_code"] == 200
    (request,) = app.dispatched
    assert isinstance(request, _common.Span) and wsgi.current_request() is None


@pytest.mark.parametrize("route", [None, "", 42])
def test_no_route_or_a_bad_one_leaves_the_verb_name(captured: Captured, route: Any) -> None:
    before = _native._tracer_stats()["internal_errors"]
    serve(framework(route)())
    (root,) = captured.drain()
    assert root["name"] == "GET" and "http.route" not in root["attributes"]
    assert _native._tracer_stats()["internal_errors"] == before  # nothing to name is no fault


def test_a_failing_attribute_is_counted_and_the_method_still_runs(captured: Captured) -> None:
    class Broken:
        @property
        def request(self) -> Any:
            raise RuntimeError("proxy outside its context")

    seen: list[str] = []
    dispatch = _native.route_method(lambda self: seen.append("ran") or "r", _context, ("request",))

    def app(env: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        token = _context.set(Broken())
        try:
            assert dispatch(object()) == "r"
        finally:
            _context.reset(token)
        start_response("200 OK", [])
        return []

    before = _native._tracer_stats()["internal_errors"]
    serve(traced(app))
    assert seen == ["ran"] and _native._tracer_stats()["internal_errors"] == before + 1
    (root,) = captured.drain()
    assert root["name"] == "GET"


def test_binding_and_introspection_match_the_functions(captured: Captured) -> None:
    App = framework()
    app = App()
    bound = app.wsgi_app
    assert bound.__self__ is app and bound.__func__ is App.__dict__["wsgi_app"]
    assert App.wsgi_app.__name__ == "wsgi_app" and App.wsgi_app.__doc__ == "The app's WSGI entry."
    assert App.full_dispatch_request.__qualname__.endswith("App.full_dispatch_request")
    assert App.wsgi_app.__wrapped__.__name__ == "wsgi_app"
    # Bound, unbound and method-object calls are all one request each.
    assert serve(bound)[0] == [b"view"]
    assert serve(lambda e, s: App.wsgi_app(app, e, s))[0] == [b"view"]
    assert len(captured.drain()) == 2


def test_under_an_outer_wsgi_layer_the_method_runs_untraced(captured: Captured) -> None:
    app = framework()()
    serve(traced(app))  # gunicorn's layer traces the request; the method passes through
    (root,) = captured.drain()
    assert root["name"] == "GET /items/<id>"  # named by the route hook all the same


def test_other_call_shapes_and_exceptions_pass_unchanged(captured: Captured) -> None:
    class Boom(Exception):
        pass

    def entry(self: Any, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("boom"):
            raise Boom()
        return (self, args, kwargs)

    method = _native.wsgi_method(entry, _common.Span, wsgi.set_status, wsgi._fail)
    dispatch = _native.route_method(entry, _context, ("request",))
    target = object()
    assert method(target, 1) == (target, (1,), {})
    assert dispatch(target, 1, key=2) == (target, (1,), {"key": 2})
    with pytest.raises(Boom):
        dispatch(target, boom=True)
    assert captured.drain() == []
    with pytest.raises(TypeError):
        _native.route_method(entry, "not a ContextVar", ("request",))
    with pytest.raises(TypeError):
        _native.route_method(entry, _context, ["request"])
    with pytest.raises(TypeError):
        _native.wsgi_method(entry, "not a type", wsgi.set_status, wsgi._fail)


def test_an_exception_through_the_method_is_recorded_and_raised(captured: Captured) -> None:
    class Boom(Exception):
        pass

    class App:
        def wsgi_app(self, env: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            raise Boom("no")

    App.wsgi_app = _native.wsgi_method(  # type: ignore[method-assign]
        App.wsgi_app, _common.Span, wsgi.set_status, wsgi._fail
    )
    with pytest.raises(Boom):
        App().wsgi_app(environ(), lambda *a: None)
    (root,) = captured.drain()
    assert root["status_code"] == "error"
    assert root["attributes"]["http.response.status_code"] == 500


def test_an_error_handler_keeps_the_exception_on_the_request_and_adds_no_frame(
    captured: Captured,
) -> None:
    class Boom(Exception):
        pass

    class App:
        def handle_user_exception(self, e: BaseException) -> Any:
            """The framework's handler."""
            raise e  # no error handler takes it

    App.handle_user_exception = _native.error_method(  # type: ignore[method-assign]
        App.handle_user_exception
    )
    assert App.handle_user_exception.__doc__ == "The framework's handler."
    assert App.handle_user_exception.__wrapped__.__name__ == "handle_user_exception"
    kept: list[Any] = []
    raised: list[BaseException] = []

    def app(env: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        try:
            App().handle_user_exception(Boom("down"))
        except Boom as err:
            raised.append(err)
        kept.append(wsgi.current_request().pending_exc)
        start_response("503 Service Unavailable", [])
        return []

    serve(traced(app))
    (err,) = raised
    assert kept == [err]
    frames = [f.name for f in traceback.extract_tb(err.__traceback__)]
    assert frames == ["app", "handle_user_exception"]  # the handler's own frame, none of ours
    (root,) = captured.drain()
    assert root["status_code"] == "error"  # a 5xx with the kept exception: recorded
    # Outside a request, and for other call shapes, it is the handler unchanged.
    with pytest.raises(Boom):
        App().handle_user_exception(Boom())
    assert _native.error_method(lambda *a, **k: (a, k))(1, 2, 3, x=4) == ((1, 2, 3), {"x": 4})
    with pytest.raises(TypeError):
        _native.error_method("not callable")


def test_a_marked_class_traces_itself_unless_a_subclass_overrides_call() -> None:
    class App:
        def __call__(self, environ: Any, start_response: Any) -> Any:
            return []

    class Subclass(App):
        pass

    class OwnCall(App):
        def __call__(self, environ: Any, start_response: Any) -> Any:
            return []

    assert not wsgi.traces_itself(App())
    wsgi.mark_self_tracing(App)
    try:
        assert wsgi.traces_itself(App()) and wsgi.traces_itself(Subclass())
        assert not wsgi.traces_itself(OwnCall())  # its own __call__ may skip the hooked entry
        assert not wsgi.traces_itself(lambda environ, start_response: [])
    finally:
        wsgi.unmark_self_tracing(App)
    assert not wsgi.traces_itself(App())
