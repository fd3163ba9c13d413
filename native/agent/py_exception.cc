// Exception recording for spans: type, message, the traceback text and the
// structured frames (file, line, function, in_app) walked from __traceback__.
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <string>
#include <utility>
#include <vector>

#include "agent/cpython/compat.h"
#include "agent/exception_capture.h"
#include "agent/py_span.h"
#include "agent/span.h"
#include "common/clock.h"

namespace pyrometer::agent::py {
namespace {

// Frames beyond this (deep recursion) keep the innermost ones, where it failed.
constexpr size_t kMaxFrames = 128;

std::atomic<PyObject*> g_format_exception{nullptr};  // traceback.format_exception

bool attr_utf8(PyObject* obj, const char* name, std::string* out) {
  PyObject* v = PyObject_GetAttrString(obj, name);
  if (v == nullptr) {
    PyErr_Clear();
    return false;
  }
  bool ok = false;
  if (PyUnicode_Check(v)) {
    Py_ssize_t n;
    const char* text = PyUnicode_AsUTF8AndSize(v, &n);
    if (text != nullptr) {
      out->assign(text, static_cast<size_t>(n));
      ok = true;
    } else {
      PyErr_Clear();
    }
  }
  Py_DECREF(v);
  return ok;
}

std::string type_name(PyObject* exc) {
  PyObject* tp = reinterpret_cast<PyObject*>(Py_TYPE(exc));
  std::string module, qualname;
  if (!attr_utf8(tp, "__qualname__", &qualname)) qualname = Py_TYPE(exc)->tp_name;
  if (!attr_utf8(tp, "__module__", &module) || module == "builtins") return qualname;
  return module + "." + qualname;
}

std::string message(PyObject* exc) {
  PyObject* text = PyObject_Str(exc);
  std::string out;
  if (text != nullptr) {
    Py_ssize_t n;
    const char* utf8 = PyUnicode_AsUTF8AndSize(text, &n);
    if (utf8 != nullptr) out.assign(utf8, static_cast<size_t>(n));
    Py_DECREF(text);
  }
  if (PyErr_Occurred()) PyErr_Clear();
  return out;
}

// traceback.format_exception(type, exc, tb) joined: the text users know.
std::string stacktrace_text(PyObject* exc, PyObject* tb) {
  PyObject* format = cached_import(g_format_exception, "traceback", "format_exception");
  if (format == nullptr) {
    PyErr_Clear();
    return std::string();
  }
  std::string out;
  PyObject* lines = PyObject_CallFunctionObjArgs(format, reinterpret_cast<PyObject*>(Py_TYPE(exc)),
                                                 exc, tb ? tb : Py_None, nullptr);
  if (lines != nullptr) {
    PyObject* empty = PyUnicode_FromString("");
    PyObject* joined = empty ? PyUnicode_Join(empty, lines) : nullptr;
    if (joined != nullptr) {
      Py_ssize_t n;
      const char* utf8 = PyUnicode_AsUTF8AndSize(joined, &n);
      if (utf8 != nullptr) out.assign(utf8, static_cast<size_t>(n));
    }
    Py_XDECREF(joined);
    Py_XDECREF(empty);
    Py_DECREF(lines);
  }
  if (PyErr_Occurred()) PyErr_Clear();
  return out;
}

// Walks tb -> tb_next (outermost first), reading only public attributes so
// the same code works on every CPython version.
std::vector<StackFrame> frames(PyObject* tb) {
  std::vector<StackFrame> out;
  const InAppRules& rules = in_app_rules();
  PyObject* cur = tb ? Py_NewRef(tb) : nullptr;
  while (cur != nullptr && cur != Py_None) {
    StackFrame f;
    PyObject* line = PyObject_GetAttrString(cur, "tb_lineno");
    if (line != nullptr) {
      f.line = static_cast<int32_t>(PyLong_AsLong(line));
      Py_DECREF(line);
    }
    PyObject* frame = PyObject_GetAttrString(cur, "tb_frame");
    PyObject* code = frame ? PyObject_GetAttrString(frame, "f_code") : nullptr;
    if (code != nullptr) {
      attr_utf8(code, "co_filename", &f.file);
      if (!attr_utf8(code, "co_qualname", &f.function)) attr_utf8(code, "co_name", &f.function);
    }
    Py_XDECREF(code);
    Py_XDECREF(frame);
    if (PyErr_Occurred()) PyErr_Clear();
    f.in_app = rules.is_in_app(f.file);
    out.push_back(std::move(f));
    PyObject* next = PyObject_GetAttrString(cur, "tb_next");
    if (next == nullptr) PyErr_Clear();
    Py_DECREF(cur);
    cur = next;
  }
  Py_XDECREF(cur);
  if (out.size() > kMaxFrames) out.erase(out.begin(), out.end() - kMaxFrames);
  return out;
}

}  // namespace

int record_exception(PySpan* s, PyObject* exc, PyObject* extra, bool escaped) {
  if (!PyExceptionInstance_Check(exc)) return 0;  // e.g. __exit__ given a bare type
  // A generator closed early raises GeneratorExit through its frames: control
  // flow, not a failure, so a span around a `yield` does not turn into an error.
  if (escaped && PyErr_GivenExceptionMatches(exc, PyExc_GeneratorExit)) return 0;
  CapturedException ce;
  ce.type = type_name(exc);
  ce.message = message(exc);
  PyObject* tb = PyException_GetTraceback(exc);
  ce.stacktrace = stacktrace_text(exc, tb);
  ce.frames = frames(tb);
  Py_XDECREF(tb);
  ce.escaped = escaped;
  std::vector<Attribute> extra_attrs;
  if (extra != nullptr && add_attributes(extra_attrs, extra) < 0) return -1;
  const uint64_t now = common::wall_unix_nano();
  PYROMETER_BEGIN_CRITICAL(reinterpret_cast<PyObject*>(s))
  if (s->state != SpanState::kEnded) {
    SpanRecord& rec = s->rec;
    if (apply_exception(rec, std::move(ce), now)) {
      for (Attribute& a : extra_attrs) {
        upsert_copied_attribute(rec.events.back().attributes, a.key, std::move(a.value));
      }
    }
  }
  PYROMETER_END_CRITICAL()
  return 0;
}

}  // namespace pyrometer::agent::py
