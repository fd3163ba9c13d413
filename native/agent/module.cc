// pyrometer._native: the binding layer between Python and the agent core.
// Every entry point is listed in python/pyrometer/_native.pyi.
#include <nanobind/nanobind.h>

namespace nb = nanobind;

// One registration call per binding area; each lives in its own py_*.cc.
namespace pyrometer::agent::py {
void register_tracer(nb::module_& m);       // py_tracer.cc: spans, context, sampling
void register_sql(nb::module_& m);          // py_sql.cc: SQL normaliser for DB integrations
void register_pipeline(nb::module_& m);     // py_pipeline.cc: export pipeline, runtime probes
void register_gauges(nb::module_& m);       // py_gauges.cc: last-value gauges, resource updates
void register_http_server(nb::module_& m);  // py_http_server.cc: request spans from scopes/environs
void register_http_route(
    nb::module_& m);  // py_http_route.cc: route naming, finishing a request span
void register_asgi_call(nb::module_& m);      // py_asgi_call.cc: a traced ASGI request, no frames
void register_asgi_method(nb::module_& m);    // py_asgi_method.cc: a framework's ASGI entry
void register_wsgi_response(nb::module_& m);  // py_wsgi_response.cc: a WSGI response, its span
void register_wsgi_call(nb::module_& m);      // py_wsgi_call.cc: a traced WSGI request, no frames
void register_route_hook(nb::module_& m);     // py_route_hook.cc: route naming, no frames
void register_error_hook(nb::module_& m);     // py_error_hook.cc: a handler's exception, no frames
void register_db_statement(nb::module_& m);   // py_db_statement.cc: a traced DB-API statement
}  // namespace pyrometer::agent::py

NB_MODULE(_native, m) {
  m.doc() = "Pyrometer agent core (C++). See python/pyrometer/_native.pyi.";
  m.attr("ABI_VERSION") = 1;
  pyrometer::agent::py::register_tracer(m);
  pyrometer::agent::py::register_sql(m);
  pyrometer::agent::py::register_pipeline(m);
  pyrometer::agent::py::register_gauges(m);
  pyrometer::agent::py::register_http_server(m);
  pyrometer::agent::py::register_http_route(m);
  pyrometer::agent::py::register_asgi_call(m);
  pyrometer::agent::py::register_asgi_method(m);
  pyrometer::agent::py::register_wsgi_response(m);
  pyrometer::agent::py::register_wsgi_call(m);
  pyrometer::agent::py::register_route_hook(m);
  pyrometer::agent::py::register_error_hook(m);
  pyrometer::agent::py::register_db_statement(m);
}
