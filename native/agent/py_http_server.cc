// The start of an HTTP server span: built in one native call from an ASGI
// scope or a WSGI environ (method, URL, peers, user agent, an incoming W3C
// context). The Python ASGI layer ran ~12 µs of attribute gathering, header
// decoding and wrapper objects per request (BENCHMARKS.md, app throughput);
// here that is a few hundred nanoseconds of C. Naming and finishing the span
// is py_http_route.cc.
//
// Semantics (OTel HTTP server conventions) match the documentation in
// docs/integrations.md: span named by the method ("GET", "HTTP" for an
// unknown method, "WEBSOCKET"), renamed "{method} {route}" at the end; an
// incoming traceparent/tracestate/baggage continues the caller's trace.
#define PY_SSIZE_T_CLEAN
#include "agent/py_http_server.h"

#include <Python.h>
#include <nanobind/nanobind.h>

#include <string>
#include <string_view>
#include <utility>

#include "agent/cpython/compat.h"
#include "agent/py_span.h"
#include "agent/span.h"
#include "agent/tracer.h"
#include "common/baggage.h"
#include "common/traceparent.h"

namespace pyrometer::agent::py {

// Room for a request span's attributes: up to 11 from the request, then the
// status code, the route and an error type — no reallocation on the way.
constexpr size_t kRequestAttributes = 14;

namespace {

using common::otlp::SpanKind;

// Interned scope keys and the span names, created once at registration.
struct Names {
  PyObject* type;
  PyObject* method;
  PyObject* headers;
  PyObject* root_path;
  PyObject* path;
  PyObject* scheme;
  PyObject* server;
  PyObject* client;
  PyObject* http_version;
  PyObject* websocket;  // the scope type value
  PyObject* verb_http;  // span name for an unknown method
  PyObject* verb_websocket;
  PyObject* known[10];  // KNOWN_METHODS, interned
  // WSGI environ keys
  PyObject* request_method;
  PyObject* http_host;
  PyObject* server_name;
  PyObject* server_port;
  PyObject* script_name;
  PyObject* path_info;
  PyObject* url_scheme;
  PyObject* remote_addr;
  PyObject* http_user_agent;
  PyObject* server_protocol;
  PyObject* http_traceparent;
  PyObject* http_tracestate;
  PyObject* http_baggage;
};
Names g;

constexpr const char* kKnownMethods[10] = {"GET",     "HEAD",    "POST",  "PUT",   "DELETE",
                                           "CONNECT", "OPTIONS", "TRACE", "PATCH", "QUERY"};

// scope[key] as a new reference, or NULL (no exception) when absent or None.
PyObject* scope_get(PyObject* scope, PyObject* key) {
  PyObject* v;
  if (PyDict_CheckExact(scope)) {
    v = PyDict_GetItemWithError(scope, key);
    if (v == nullptr) {
      PyErr_Clear();
      return nullptr;
    }
    Py_INCREF(v);
  } else {
    v = PyObject_GetItem(scope, key);
    if (v == nullptr) {
      PyErr_Clear();
      return nullptr;
    }
  }
  if (v == Py_None) {
    Py_DECREF(v);
    return nullptr;
  }
  return v;
}

// Header bytes are latin-1 (ASGI); attributes are UTF-8. ASCII (nearly every
// header) is copied as it is, in one go.
std::string latin1_to_utf8(std::string_view in) {
  size_t ascii = 0;
  while (ascii < in.size() && static_cast<unsigned char>(in[ascii]) < 0x80) ++ascii;
  if (ascii == in.size()) return std::string(in);
  std::string out;
  out.reserve(in.size() + (in.size() - ascii));
  out.append(in.data(), ascii);
  for (unsigned char c : in.substr(ascii)) {
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

bool bytes_view(PyObject* o, std::string_view* out) {
  if (!PyBytes_Check(o)) return false;
  *out = std::string_view(PyBytes_AS_STRING(o), static_cast<size_t>(PyBytes_GET_SIZE(o)));
  return true;
}

bool name_is(std::string_view key, std::string_view lower) {
  return key.size() == lower.size() && strncasecmp(key.data(), lower.data(), key.size()) == 0;
}

// What the request's headers tell the span: first value of each wins.
struct RequestHeaders {
  std::string_view host, user_agent, traceparent, tracestate, baggage;
  bool has_host = false, has_user_agent = false;

  void take(std::string_view key, std::string_view value) {
    auto first = [&](std::string_view* slot, bool seen) {
      if (!seen) *slot = value;
    };
    if (name_is(key, "host")) {
      first(&host, has_host);
      has_host = true;
    } else if (name_is(key, "user-agent")) {
      first(&user_agent, has_user_agent);
      has_user_agent = true;
    } else if (name_is(key, "traceparent")) {
      first(&traceparent, !traceparent.empty());
    } else if (name_is(key, "tracestate")) {
      first(&tracestate, !tracestate.empty());
    } else if (name_is(key, "baggage")) {
      first(&baggage, !baggage.empty());
    }
  }
};

// Reads scope["headers"] (an iterable of (name, value) byte pairs). The views
// point into the header objects, which `keep` holds.
void read_headers(PyObject* scope, RequestHeaders* out, PyObject** keep) {
  PyObject* headers = scope_get(scope, g.headers);
  *keep = headers;
  if (headers == nullptr) return;
  PyObject* seq = PySequence_Fast(headers, "headers");
  if (seq == nullptr) {
    PyErr_Clear();
    return;
  }
  Py_SETREF(*keep, seq);
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
  PyObject** items = PySequence_Fast_ITEMS(seq);
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* pair = items[i];
    PyObject *k, *v;
    if (PyTuple_CheckExact(pair) && PyTuple_GET_SIZE(pair) == 2) {
      k = PyTuple_GET_ITEM(pair, 0);
      v = PyTuple_GET_ITEM(pair, 1);
    } else if (PyList_CheckExact(pair) && PyList_GET_SIZE(pair) == 2) {
      k = PyList_GET_ITEM(pair, 0);  // the list is held by seq; not mutated meanwhile (GIL)
      v = PyList_GET_ITEM(pair, 1);
    } else {
      continue;
    }
    std::string_view key, value;
    if (bytes_view(k, &key) && bytes_view(v, &value)) out->take(key, value);
  }
}

// The semconv method (known ones as-is or upper-cased, else "_OTHER") and
// the span name verb. `original` is set only for "_OTHER".
struct Method {
  PyObject* verb = nullptr;  // borrowed, interned
  std::string attr;          // http.request.method
  std::string original;      // http.request.method_original, or empty
};

// `raw`: the request's method (a str, or NULL for none: GET). Steals it.
Method method_of(PyObject* raw) {
  Method m;
  std::string text = "GET";
  if (raw != nullptr) {
    for (int i = 0; i < 10; ++i) {
      if (raw == g.known[i]) {  // the common case: servers pass interned literals
        Py_DECREF(raw);
        m.verb = g.known[i];
        m.attr = kKnownMethods[i];
        return m;
      }
    }
    if (!text_of(raw, &text)) text = "GET";
    Py_DECREF(raw);
  }
  std::string upper = text;
  for (char& c : upper) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
  for (int i = 0; i < 10; ++i) {
    if (upper == kKnownMethods[i]) {
      m.verb = g.known[i];
      m.attr = kKnownMethods[i];
      return m;
    }
  }
  m.verb = g.verb_http;
  m.attr = "_OTHER";
  m.original = std::move(text);
  return m;
}

// Appending builds the attribute in place: a temporary Attribute pushed
// back costs a string and a variant move and their destructors per attribute
// (~300 instructions each, eight or more per request).
void add(std::vector<Attribute>& attrs, StaticKey key, AttrValue&& value) {
  Attribute& a = attrs.emplace_back();
  a.key = key;
  a.value = std::move(value);
}

void add(std::vector<Attribute>& attrs, StaticKey key, std::string&& text) {
  Attribute& a = attrs.emplace_back();  // a value holds an empty string until set
  a.key = key;
  std::get<std::string>(a.value) = std::move(text);
}

void add(std::vector<Attribute>& attrs, StaticKey key, int64_t number) {
  Attribute& a = attrs.emplace_back();
  a.key = key;
  a.value = number;
}

// Appends key = the text of mapping[item], written straight into the
// attribute; nothing when the item is absent, None, empty or not text-able.
void add_text_of(std::vector<Attribute>& attrs, StaticKey key, PyObject* mapping, PyObject* item) {
  PyObject* v = scope_get(mapping, item);
  if (v == nullptr) return;
  Attribute& a = attrs.emplace_back();
  std::string& text = std::get<std::string>(a.value);
  if (text_of(v, &text) && !text.empty()) {
    a.key = key;
  } else {
    attrs.pop_back();
  }
  Py_DECREF(v);
}

// item `i` of a (host, port) pair from the scope, as an attribute.
void add_pair_item(std::vector<Attribute>& attrs, StaticKey key, PyObject* pair, Py_ssize_t i) {
  if (pair == nullptr || !PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) <= i) {
    if (pair == nullptr || !PySequence_Check(pair)) return;
    PyObject* item = PySequence_GetItem(pair, i);
    if (item == nullptr) {
      PyErr_Clear();
      return;
    }
    AttrValue v;
    if (to_attr_value(item, &v)) add(attrs, key, std::move(v));
    Py_DECREF(item);
    return;
  }
  AttrValue v;
  if (to_attr_value(PyTuple_GET_ITEM(pair, i), &v)) add(attrs, key, std::move(v));
}

// Digits of at most 5 characters as a port, else -1.
int64_t port_number(std::string_view digits) {
  if (digits.empty() || digits.size() > 5 ||
      digits.find_first_not_of("0123456789") != std::string_view::npos) {
    return -1;
  }
  int64_t v = 0;
  for (char c : digits) v = v * 10 + (c - '0');
  return v;
}

// "host:port" -> host (in place) and the port, or -1 when there is none.
// "[v6]" and "[v6]:port" keep their brackets, as the Host header writes them.
int64_t split_host_port(std::string_view* host) {
  if (host->empty() || host->find(':') == std::string_view::npos || host->back() == ']') return -1;
  const size_t colon = host->rfind(':');
  const int64_t port = port_number(host->substr(colon + 1));
  *host = host->substr(0, colon);
  return port;
}

// A remote parent from the propagation headers, or NULL (no exception).
PyObject* remote_parent(const RequestHeaders& h) {
  if (h.traceparent.empty()) return nullptr;
  auto ctx = common::extract_trace_context(h.traceparent, h.tracestate);
  if (!ctx) return nullptr;
  std::string baggage;
  if (!h.baggage.empty()) {
    common::Baggage parsed = common::Baggage::parse(latin1_to_utf8(h.baggage));
    if (!parsed.empty()) baggage = parsed.to_header();
  }
  PyObject* parent =
      new_span_context(ctx->parent.trace_id.bytes().data(), ctx->parent.parent_id.bytes().data(),
                       ctx->parent.flags, ctx->state.to_header(), std::move(baggage));
  if (parent == nullptr) PyErr_Clear();
  return parent;
}

}  // namespace

PySpan* start_request_span(PyObject* scope) {
  PyObject* type = scope_get(scope, g.type);
  const bool websocket =
      type != nullptr &&
      (type == g.websocket || PyObject_RichCompareBool(type, g.websocket, Py_EQ) == 1);
  Py_XDECREF(type);
  PyErr_Clear();

  RequestHeaders h;
  PyObject* headers_keep = nullptr;
  read_headers(scope, &h, &headers_keep);

  Method m;
  if (websocket) {
    m.verb = g.verb_websocket;
    m.attr = "GET";
  } else {
    m = method_of(scope_get(scope, g.method));
  }
  PyObject* parent = remote_parent(h);
  PySpan* s = new_span(m.verb, nullptr, nullptr, parent);
  Py_XDECREF(parent);
  if (s == nullptr) {
    Py_XDECREF(headers_keep);
    return nullptr;
  }
  s->rec.kind = SpanKind::kServer;
  std::vector<Attribute>& attrs = s->rec.attributes;
  attrs.reserve(kRequestAttributes);
  add(attrs, "http.request.method", std::move(m.attr));

  std::string path;
  if (PyObject* root = scope_get(scope, g.root_path)) {
    text_of(root, &path);
    Py_DECREF(root);
  }
  std::string tail;
  PyObject* p = scope_get(scope, g.path);
  if (p == nullptr || !text_of(p, &tail) || tail.empty()) tail = "/";
  Py_XDECREF(p);
  add(attrs, "url.path", path + tail);

  std::string scheme;
  PyObject* sch = scope_get(scope, g.scheme);
  if (sch == nullptr || !text_of(sch, &scheme) || scheme.empty())
    scheme = websocket ? "ws" : "http";
  Py_XDECREF(sch);
  add(attrs, "url.scheme", std::move(scheme));

  PyObject* server = scope_get(scope, g.server);
  std::string_view host = h.host;
  int64_t host_port = split_host_port(&host);
  if (!host.empty()) {
    add(attrs, "server.address", latin1_to_utf8(host));
  } else {
    add_pair_item(attrs, "server.address", server, 0);
  }
  if (host_port >= 0) {
    add(attrs, "server.port", host_port);
  } else {
    add_pair_item(attrs, "server.port", server, 1);
  }
  Py_XDECREF(server);
  PyObject* client = scope_get(scope, g.client);
  add_pair_item(attrs, "client.address", client, 0);
  add_pair_item(attrs, "client.port", client, 1);
  Py_XDECREF(client);
  if (h.has_user_agent) add(attrs, "user_agent.original", latin1_to_utf8(h.user_agent));
  if (PyObject* version = scope_get(scope, g.http_version)) {
    std::string v;
    if (text_of(version, &v)) add(attrs, "network.protocol.version", std::move(v));
    Py_DECREF(version);
  }
  if (!m.original.empty()) add(attrs, "http.request.method_original", std::move(m.original));
  Py_XDECREF(headers_keep);

  start_span(s);
  s->token = attach_published(s);
  return s;
}

PySpan* start_wsgi_request_span(PyObject* environ) {
  // Text of environ[key] ("" when absent, None, or not convertible).
  auto text = [&](PyObject* key) {
    std::string out;
    if (PyObject* v = scope_get(environ, key)) {
      if (!text_of(v, &out)) out.clear();
      Py_DECREF(v);
    }
    return out;
  };
  RequestHeaders h;  // views into the strings below
  std::string traceparent = text(g.http_traceparent);
  std::string tracestate, baggage;
  if (!traceparent.empty()) {  // tracestate and baggage mean nothing without it
    tracestate = text(g.http_tracestate);
    baggage = text(g.http_baggage);
  }
  h.traceparent = traceparent;
  h.tracestate = tracestate;
  h.baggage = baggage;
  Method m = method_of(scope_get(environ, g.request_method));
  PyObject* parent = remote_parent(h);
  PySpan* s = new_span(m.verb, nullptr, nullptr, parent);
  Py_XDECREF(parent);
  if (s == nullptr) return nullptr;
  s->rec.kind = SpanKind::kServer;
  std::vector<Attribute>& attrs = s->rec.attributes;
  attrs.reserve(kRequestAttributes);
  add(attrs, "http.request.method", std::move(m.attr));
  std::string path = text(g.path_info);
  add(attrs, "url.path", text(g.script_name) + (path.empty() ? "/" : path));
  add_text_of(attrs, "url.scheme", environ, g.url_scheme);
  std::string host_text = text(g.http_host);
  if (host_text.empty()) host_text = text(g.server_name);
  std::string_view host = host_text;
  int64_t port = -1;
  if (!host.empty() && host.find(':') != std::string_view::npos && host.back() != ']') {
    port = split_host_port(&host);  // a bad port in Host is no port, as in the Host header
  } else {
    port = port_number(text(g.server_port));
  }
  if (!host.empty()) add(attrs, "server.address", std::string(host));
  if (port >= 0) add(attrs, "server.port", port);
  add_text_of(attrs, "client.address", environ, g.remote_addr);
  add_text_of(attrs, "user_agent.original", environ, g.http_user_agent);
  std::string protocol = text(g.server_protocol);
  const size_t slash = protocol.find('/');
  if (slash != std::string::npos && slash + 1 < protocol.size()) {
    add(attrs, "network.protocol.version", protocol.substr(slash + 1));
  }
  if (!m.original.empty()) add(attrs, "http.request.method_original", std::move(m.original));
  start_span(s);
  return s;
}

namespace {

// start_wsgi_span(environ) -> Span: the request's SERVER span, started (not current).
PyObject* py_start_wsgi_span(PyObject*, PyObject* environ) {
  if (PyObject* noop = noop_span()) return Py_NewRef(noop);
  return reinterpret_cast<PyObject*>(start_wsgi_request_span(environ));
}

// start_asgi_span(scope) -> Span: the SERVER span of an ASGI "http" or
// "websocket" connection, started and current (finish_http_span ends it).
PyObject* py_start_asgi_span(PyObject*, PyObject* scope) {
  if (PyObject* noop = noop_span()) return Py_NewRef(noop);
  return reinterpret_cast<PyObject*>(start_request_span(scope));
}

PyMethodDef kFunctions[] = {
    {"start_wsgi_span", py_start_wsgi_span, METH_O,
     "start_wsgi_span(environ) -> Span: the request's SERVER span, started, not current."},
    {"start_asgi_span", py_start_asgi_span, METH_O,
     "start_asgi_span(scope) -> Span: the request's SERVER span, started and current."},
    {nullptr, nullptr, 0, nullptr},
};

}  // namespace

void register_http_server(nanobind::module_& m) {
  g.type = intern_name("type");
  g.method = intern_name("method");
  g.headers = intern_name("headers");
  g.root_path = intern_name("root_path");
  g.path = intern_name("path");
  g.scheme = intern_name("scheme");
  g.server = intern_name("server");
  g.client = intern_name("client");
  g.http_version = intern_name("http_version");
  g.websocket = intern_name("websocket");
  g.request_method = intern_name("REQUEST_METHOD");
  g.http_host = intern_name("HTTP_HOST");
  g.server_name = intern_name("SERVER_NAME");
  g.server_port = intern_name("SERVER_PORT");
  g.script_name = intern_name("SCRIPT_NAME");
  g.path_info = intern_name("PATH_INFO");
  g.url_scheme = intern_name("wsgi.url_scheme");
  g.remote_addr = intern_name("REMOTE_ADDR");
  g.http_user_agent = intern_name("HTTP_USER_AGENT");
  g.server_protocol = intern_name("SERVER_PROTOCOL");
  g.http_traceparent = intern_name("HTTP_TRACEPARENT");
  g.http_tracestate = intern_name("HTTP_TRACESTATE");
  g.http_baggage = intern_name("HTTP_BAGGAGE");
  g.verb_http = intern_name("HTTP");
  g.verb_websocket = intern_name("WEBSOCKET");
  for (int i = 0; i < 10; ++i) g.known[i] = intern_name(kKnownMethods[i]);
  if (PyModule_AddFunctions(m.ptr(), kFunctions) < 0) throw nanobind::python_error();
}

}  // namespace pyrometer::agent::py
