// Python values <-> span attribute values (str, int, float, bool, homogeneous
// sequences), and finished spans as dicts for the test-only capture.
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <string>
#include <utility>

#include "agent/cpython/compat.h"
#include "agent/py_span.h"
#include "agent/span.h"
#include "agent/tracer.h"

namespace pyrometer::agent::py {
namespace {

// Scalar conversion; `kind` reports which alternative was produced (0 str,
// 1 int, 2 float, 3 bool) so sequences can check they are homogeneous.
bool to_scalar(PyObject* v, AttrScalar* out, int* kind) {
  if (PyBool_Check(v)) {
    *out = v == Py_True;
    *kind = 3;
    return true;
  }
  if (PyLong_Check(v)) {
    int overflow = 0;
    long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (overflow == 0 && !(x == -1 && PyErr_Occurred())) {
      *out = static_cast<int64_t>(x);
      *kind = 1;
      return true;
    }
    PyErr_Clear();  // beyond int64: keep the digits as text
  } else if (PyFloat_Check(v)) {
    *out = PyFloat_AS_DOUBLE(v);
    *kind = 2;
    return true;
  }
  std::string s;  // a str, an int beyond int64 (its digits), or str() of anything else
  if (!text_of(v, &s)) return false;
  *out = std::move(s);
  *kind = 0;
  return true;
}

std::string scalar_text(const AttrScalar& v) {
  switch (v.index()) {
    case 0:
      return std::get<std::string>(v);
    case 1:
      return std::to_string(std::get<int64_t>(v));
    case 2: {
      PyObject* f = PyFloat_FromDouble(std::get<double>(v));
      std::string out;
      if (f != nullptr && !text_of(f, &out)) out = std::to_string(std::get<double>(v));
      Py_XDECREF(f);
      return out;
    }
    default:
      return std::get<bool>(v) ? "True" : "False";
  }
}

PyObject* scalar_to_py(const AttrScalar& v) {
  switch (v.index()) {
    case 0: {
      const std::string& s = std::get<std::string>(v);
      return PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "replace");
    }
    case 1:
      return PyLong_FromLongLong(std::get<int64_t>(v));
    case 2:
      return PyFloat_FromDouble(std::get<double>(v));
    default:
      return PyBool_FromLong(std::get<bool>(v));
  }
}

PyObject* attrs_to_dict(const std::vector<Attribute>& attrs) {
  PyObject* d = PyDict_New();
  if (d == nullptr) return nullptr;
  for (const Attribute& a : attrs) {
    PyObject* v = from_attr_value(a.value);
    if (v == nullptr || PyDict_SetItemString(d, a.key.c_str(), v) < 0) {
      Py_XDECREF(v);
      Py_DECREF(d);
      return nullptr;
    }
    Py_DECREF(v);
  }
  return d;
}

PyObject* hex(const uint8_t* b, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string s(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    s[2 * i] = kDigits[b[i] >> 4];
    s[2 * i + 1] = kDigits[b[i] & 15];
  }
  return PyUnicode_FromStringAndSize(s.data(), static_cast<Py_ssize_t>(s.size()));
}

// Sets d[key] = value and drops the reference; false (exception set) on failure.
bool put(PyObject* d, const char* key, PyObject* value) {
  if (value == nullptr) return false;
  int rc = PyDict_SetItemString(d, key, value);
  Py_DECREF(value);
  return rc == 0;
}

PyObject* str(const std::string& s) {
  return PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "replace");
}

}  // namespace

bool to_attr_value(PyObject* value, AttrValue* out) {
  if (value == Py_None) return false;  // OTel: None is not a value; dropped and counted
  if (PyList_Check(value) || PyTuple_Check(value)) {
    PyObject* seq = PySequence_Fast(value, "");
    if (seq == nullptr) {
      PyErr_Clear();
      return false;
    }
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject** items = PySequence_Fast_ITEMS(seq);
    std::vector<AttrScalar> vec;
    vec.reserve(static_cast<size_t>(n));
    int first_kind = -1;
    bool mixed = false;
    for (Py_ssize_t i = 0; i < n; ++i) {
      AttrScalar s;
      int kind;
      if (items[i] == Py_None) {  // keep positions: OTel allows null elements; we use ""
        s = std::string();
        kind = 0;
      } else if (!to_scalar(items[i], &s, &kind)) {
        Py_DECREF(seq);
        return false;
      }
      if (first_kind < 0) first_kind = kind;
      mixed = mixed || kind != first_kind;
      vec.push_back(std::move(s));
    }
    Py_DECREF(seq);
    if (mixed) {  // OTel requires homogeneous arrays: mixed ones become strings
      for (AttrScalar& s : vec) s = scalar_text(s);
    }
    *out = std::move(vec);
    return true;
  }
  AttrScalar s;
  int kind;
  if (!to_scalar(value, &s, &kind)) return false;
  std::visit([out](auto&& v) { *out = std::move(v); }, std::move(s));
  return true;
}

namespace {

// One key/value pair of add_attributes. -1 with TypeError for a non-str key.
int add_one(std::vector<Attribute>& attrs, PyObject* key, PyObject* value) {
  if (!PyUnicode_Check(key)) {
    PyErr_SetString(PyExc_TypeError, "attribute keys must be str");
    return -1;
  }
  Py_ssize_t n;
  const char* k = PyUnicode_AsUTF8AndSize(key, &n);  // cached by the str: no copy
  AttrValue v;
  if (k == nullptr) PyErr_Clear();
  if (k == nullptr || !to_attr_value(value, &v) ||
      !upsert_copied_attribute(attrs, std::string_view(k, static_cast<size_t>(n)), std::move(v))) {
    tracer_counters().attributes_dropped.fetch_add(1, std::memory_order_relaxed);
  }
  return 0;
}

}  // namespace

int add_attributes(std::vector<Attribute>& attrs, PyObject* mapping) {
  if (PyDict_Check(mapping)) {
    // The common case (attributes={...}): walk the dict in place, no item list.
    attrs.reserve(attrs.size() + static_cast<size_t>(PyDict_GET_SIZE(mapping)));
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(mapping, &pos, &key, &value)) {
      Py_INCREF(key);  // to_attr_value may run str() on a value, which may mutate the dict
      Py_INCREF(value);
      const int rc = add_one(attrs, key, value);
      Py_DECREF(key);
      Py_DECREF(value);
      if (rc < 0) return -1;
    }
    return 0;
  }
  PyObject* items = PyMapping_Items(mapping);
  if (items == nullptr) return -1;
  const Py_ssize_t n = PyList_GET_SIZE(items);
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* kv = PyList_GET_ITEM(items, i);
    if (!PyTuple_Check(kv) || PyTuple_GET_SIZE(kv) != 2) continue;
    if (add_one(attrs, PyTuple_GET_ITEM(kv, 0), PyTuple_GET_ITEM(kv, 1)) < 0) {
      Py_DECREF(items);
      return -1;
    }
  }
  Py_DECREF(items);
  return 0;
}

PyObject* from_attr_value(const AttrValue& value) {
  if (value.index() == 4) {
    const auto& vec = std::get<std::vector<AttrScalar>>(value);
    PyObject* list = PyList_New(static_cast<Py_ssize_t>(vec.size()));
    if (list == nullptr) return nullptr;
    for (size_t i = 0; i < vec.size(); ++i) {
      PyObject* item = scalar_to_py(vec[i]);
      if (item == nullptr) {
        Py_DECREF(list);
        return nullptr;
      }
      PyList_SET_ITEM(list, static_cast<Py_ssize_t>(i), item);
    }
    return list;
  }
  AttrScalar s;
  std::visit(
      [&s](auto&& v) {
        if constexpr (!std::is_same_v<std::decay_t<decltype(v)>, std::vector<AttrScalar>>) s = v;
      },
      value);
  return scalar_to_py(s);
}

PyObject* record_to_dict(const SpanRecord& rec) {
  static const char* kKinds[] = {"unspecified", "internal", "server",
                                 "client",      "producer", "consumer"};
  static const char* kStatus[] = {"unset", "ok", "error"};
  PyObject* d = PyDict_New();
  if (d == nullptr) return nullptr;
  bool ok =
      put(d, "name", str(rec.name)) &&
      put(d, "kind", PyUnicode_FromString(kKinds[static_cast<int>(rec.kind) % 6])) &&
      put(d, "trace_id", hex(rec.trace_id, 16)) && put(d, "span_id", hex(rec.span_id, 8)) &&
      put(d, "parent_span_id", rec.has_parent ? hex(rec.parent_span_id, 8) : Py_NewRef(Py_None)) &&
      put(d, "parent_is_remote", PyBool_FromLong(rec.parent_is_remote)) &&
      put(d, "trace_flags", PyLong_FromLong(rec.trace_flags)) &&
      put(d, "trace_state", str(rec.trace_state)) &&
      put(d, "start_unix_nano", PyLong_FromUnsignedLongLong(rec.start_unix_nano)) &&
      put(d, "end_unix_nano", PyLong_FromUnsignedLongLong(rec.end_unix_nano)) &&
      put(d, "attributes", attrs_to_dict(rec.attributes)) &&
      put(d, "status_code", PyUnicode_FromString(kStatus[static_cast<int>(rec.status_code) % 3])) &&
      put(d, "status_message", str(rec.status_message));
  PyObject* events = ok ? PyList_New(0) : nullptr;
  for (size_t i = 0; ok && events != nullptr && i < rec.events.size(); ++i) {
    const EventRecord& e = rec.events[i];
    PyObject* ed = PyDict_New();
    ok = ed != nullptr && put(ed, "name", str(e.name)) &&
         put(ed, "time_unix_nano", PyLong_FromUnsignedLongLong(e.time_unix_nano)) &&
         put(ed, "attributes", attrs_to_dict(e.attributes)) && PyList_Append(events, ed) == 0;
    Py_XDECREF(ed);
  }
  ok = ok && put(d, "events", events);
  PyObject* frames = ok ? PyList_New(0) : nullptr;
  for (size_t i = 0; ok && frames != nullptr && i < rec.exception_stack.size(); ++i) {
    const StackFrame& f = rec.exception_stack[i];
    PyObject* fd = PyDict_New();
    ok = fd != nullptr && put(fd, "file", str(f.file)) &&
         put(fd, "line", PyLong_FromLong(f.line)) && put(fd, "function", str(f.function)) &&
         put(fd, "in_app", PyBool_FromLong(f.in_app)) && PyList_Append(frames, fd) == 0;
    Py_XDECREF(fd);
  }
  ok = ok && put(d, "exception_stack", frames);
  if (!ok) {
    Py_DECREF(d);
    return nullptr;
  }
  return d;
}

}  // namespace pyrometer::agent::py
