// Binding for last-value gauges and the resource's per-worker attributes:
// record_gauge, gauge_stats and update_resource (typed in _native.pyi).
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>

#include "agent/agent_runtime.h"

namespace nb = nanobind;

namespace pyrometer::agent {
namespace {

// str/int/float/bool as themselves; anything else as its str() (an attribute
// never makes a call fail). An int beyond 64 bits becomes its decimal text.
AttrValue scalar_attr(nb::handle v) {
  PyObject* o = v.ptr();
  if (PyBool_Check(o)) return o == Py_True;
  if (PyLong_Check(o)) {
    int overflow = 0;
    long long x = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow == 0 && !(x == -1 && PyErr_Occurred())) return static_cast<int64_t>(x);
    PyErr_Clear();
  } else if (PyFloat_Check(o)) {
    return PyFloat_AS_DOUBLE(o);
  } else if (PyUnicode_Check(o)) {
    Py_ssize_t n = 0;
    if (const char* s = PyUnicode_AsUTF8AndSize(o, &n)) return std::string(s, size_t(n));
    PyErr_Clear();
  }
  return nb::cast<std::string>(nb::str(v));
}

// None or a dict → attributes; anything else is a TypeError (a caller bug).
std::vector<Attribute> attributes_of(nb::handle obj) {
  std::vector<Attribute> out;
  if (obj.is_none()) return out;
  if (!PyDict_Check(obj.ptr())) throw nb::type_error("attributes must be a dict or None");
  out.reserve(static_cast<size_t>(PyDict_Size(obj.ptr())));
  for (auto [k, v] : nb::borrow<nb::dict>(obj)) {
    out.push_back(Attribute{nb::cast<std::string>(nb::str(k)), scalar_attr(v)});
  }
  return out;
}

// An int stays an int point; bool counts as int; other numbers via float().
GaugeValue value_of(nb::handle v) {
  PyObject* o = v.ptr();
  if (PyLong_Check(o)) {
    int overflow = 0;
    long long x = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow == 0 && !(x == -1 && PyErr_Occurred())) {
      return GaugeValue::of_int(static_cast<int64_t>(x));
    }
    PyErr_Clear();
  }
  double d = PyFloat_AsDouble(o);
  if (d == -1.0 && PyErr_Occurred()) {
    PyErr_Clear();
    throw nb::type_error("gauge value must be a number");
  }
  return GaugeValue::of_double(d);
}

bool record_gauge(const std::string& name, nb::handle value, nb::handle attributes,
                  const std::string& unit) {
  GaugeValue v = value_of(value);
  std::vector<Attribute> attrs = attributes_of(attributes);
  PipelineImpl* p = pipeline_impl();
  if (p == nullptr) return false;
  return p->record_gauge(name, v, std::move(attrs), unit) == GaugeRecordResult::kRecorded;
}

}  // namespace

namespace py {
void register_gauges(nb::module_& m) {
  m.def("record_gauge", &record_gauge, nb::arg("name"), nb::arg("value"),
        nb::arg("attributes") = nb::none(), nb::arg("unit") = "",
        "Sets the last value of a gauge series (name + attributes), exported at every metrics "
        "interval until stale. False when the agent is off or the reading was dropped (counted).");
  m.def(
      "gauge_stats",
      [] {
        nb::dict d;
        PipelineImpl* p = pipeline_impl();
        d["series"] = p ? p->gauges().series() : 0;
        d["dropped"] = p ? p->gauges().dropped() : 0;
        return d;
      },
      "Live gauge series and readings dropped (limit, invalid, name conflict).");
  m.def(
      "update_resource",
      [](nb::handle attributes) {
        std::vector<Attribute> attrs = attributes_of(attributes);
        PipelineImpl* p = pipeline_impl();
        if (p == nullptr) return false;
        p->update_resource(attrs);
        return true;
      },
      nb::arg("attributes"),
      "Sets resource attributes of everything exported from now on (a worker's process.pid, "
      "...). False when the agent is not started.");
}
}  // namespace py

}  // namespace pyrometer::agent
