// Binding for the agent pipeline: start/flush/shutdown, logs, stats and the
// runtime probes' entry points (typed in python/pyrometer/_native.pyi).
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cstring>

#include "agent/agent_runtime.h"
#include "agent/cpython/gil_state.h"
#include "agent/diagnostics.h"
#include "agent/tracer.h"
#include "common/clock.h"
#include "common/random.h"

namespace nb = nanobind;

namespace pyrometer::agent {
namespace {

// The exit flush bound given to start_pipeline, used by shutdown().
std::chrono::milliseconds g_flush_timeout{2000};

std::chrono::milliseconds to_ms(double seconds) {
  if (!(seconds > 0)) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000.0));
}

std::vector<std::pair<std::string, std::string>> str_pairs(const nb::dict& d) {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto [k, v] : d)
    out.emplace_back(nb::cast<std::string>(nb::str(k)), nb::cast<std::string>(nb::str(v)));
  return out;
}

bool scalar_of(nb::handle v, AttrScalar* out) {
  PyObject* o = v.ptr();
  if (PyBool_Check(o)) {
    *out = o == Py_True;
  } else if (PyLong_Check(o)) {
    int overflow = 0;
    long long x = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow != 0) {
      *out = nb::cast<std::string>(nb::str(v));
    } else {
      *out = static_cast<int64_t>(x);
    }
  } else if (PyFloat_Check(o)) {
    *out = PyFloat_AS_DOUBLE(o);
  } else if (PyUnicode_Check(o)) {
    Py_ssize_t n = 0;
    const char* s = PyUnicode_AsUTF8AndSize(o, &n);
    if (s == nullptr) {
      PyErr_Clear();
      return false;
    }
    *out = std::string(s, static_cast<size_t>(n));
  } else {
    return false;
  }
  return true;
}

// Python attributes → owned attributes. Values of other types are str()-ed
// rather than rejected: a log call must never fail because of an attribute.
std::vector<Attribute> attrs_of(nb::handle obj) {
  std::vector<Attribute> out;
  if (!obj.is_valid() || obj.is_none() || !PyDict_Check(obj.ptr())) return out;
  for (auto [k, v] : nb::borrow<nb::dict>(obj)) {
    Attribute a;
    a.key = nb::cast<std::string>(nb::str(k));
    AttrScalar s;
    if (scalar_of(v, &s)) {
      std::visit([&](auto&& x) { a.value = x; }, s);
    } else if (PyList_Check(v.ptr()) || PyTuple_Check(v.ptr())) {
      std::vector<AttrScalar> seq;
      for (nb::handle item : nb::borrow<nb::sequence>(v)) {
        AttrScalar e;
        if (!scalar_of(item, &e)) e = nb::cast<std::string>(nb::str(item));
        seq.push_back(std::move(e));
      }
      a.value = std::move(seq);
    } else {
      a.value = nb::cast<std::string>(nb::str(v));
    }
    out.push_back(std::move(a));
  }
  return out;
}

bool copy_id(nb::handle obj, uint8_t* dst, size_t n) {
  if (!obj.is_valid() || obj.is_none()) return false;
  if (!PyBytes_Check(obj.ptr()) || static_cast<size_t>(PyBytes_GET_SIZE(obj.ptr())) != n)
    return false;
  std::memcpy(dst, PyBytes_AS_STRING(obj.ptr()), n);
  return true;
}

void refresh_thread_map(PipelineImpl* p) {
  if (p->gil().supported()) p->gil().set_thread_map(cpython::thread_state_map());
}

bool start(const std::string& service_name, const nb::dict& resource_attributes,
           const std::string& traces_url, const std::string& metrics_url,
           const std::string& logs_url, const nb::dict& headers, double export_interval_s,
           double metrics_interval_s, double flush_timeout_s, int64_t max_queue_spans,
           int64_t max_queue_logs, double retry_initial_s, double retry_max_s, int max_attempts,
           bool gil_sampling, double gil_duty, const std::string& compression) {
  if (compression != "gzip" && compression != "none") {
    throw nb::value_error("compression must be 'gzip' or 'none'");
  }
  if (pipeline_impl() != nullptr) return false;
  PipelineConfig cfg;
  cfg.resource.service_name = service_name;
  cfg.resource.attributes = str_pairs(resource_attributes);
  cfg.exporter.traces_url = traces_url;
  cfg.exporter.metrics_url = metrics_url;
  cfg.exporter.logs_url = logs_url;
  cfg.exporter.headers = str_pairs(headers);
  cfg.exporter.gzip = compression == "gzip";
  if (export_interval_s > 0) cfg.exporter.export_interval = to_ms(export_interval_s);
  if (metrics_interval_s > 0) cfg.exporter.metrics_interval = to_ms(metrics_interval_s);
  if (retry_initial_s > 0) cfg.exporter.retry_initial = to_ms(retry_initial_s);
  if (retry_max_s > 0) cfg.exporter.retry_max = to_ms(retry_max_s);
  if (max_attempts > 0) cfg.exporter.max_attempts = max_attempts;
  if (max_queue_spans > 0) cfg.max_queue_spans = static_cast<size_t>(max_queue_spans);
  if (max_queue_logs > 0) cfg.max_queue_logs = static_cast<size_t>(max_queue_logs);
  cfg.gil_sampling = gil_sampling;
  cfg.gil_duty = gil_duty;
  g_flush_timeout = flush_timeout_s > 0 ? to_ms(flush_timeout_s) : std::chrono::milliseconds(2000);
  PipelineImpl* p = start_pipeline(std::move(cfg), &cpython::read_gil_state);
  set_pipeline_provider(&pipeline);  // the tracer's finished spans now come here
  refresh_thread_map(p);
  return true;
}

nb::dict stats_dict() {
  nb::dict d;
  PipelineImpl* p = pipeline_impl();
  d["started"] = p != nullptr;
  if (p == nullptr) return d;
  PipelineStats s = p->stats();
  d["queued"] = s.queued_spans;
  d["queued_logs"] = s.queued_logs;
  d["dropped"] = s.dropped_spans + s.dropped_logs + s.dropped_points;
  d["dropped_spans"] = s.dropped_spans;
  d["dropped_logs"] = s.dropped_logs;
  d["dropped_points"] = s.dropped_points;
  d["sent"] = s.sent_spans;
  d["sent_spans"] = s.sent_spans;
  d["sent_logs"] = s.sent_logs;
  d["sent_points"] = s.sent_points;
  d["requests"] = s.requests;
  d["failed_requests"] = s.failed_requests;
  d["retries"] = s.retries;
  d["partial_rejected"] = s.partial_rejected;
  d["errors"] = s.errors;
  d["last_error"] = s.last_error;
  d["red_overflow"] = s.red_overflow;
  d["exporter_running"] = s.exporter_running;
  d["shut_down"] = p->is_shut_down();
  d["instance_id"] = p->resource().instance_id;
  return d;
}

nb::dict gil_dict() {
  nb::dict d;
  PipelineImpl* p = pipeline_impl();
  const char* why = cpython::gil_state_unsupported_reason();
  d["supported"] = why == nullptr && (p == nullptr || p->gil().supported());
  if (why != nullptr) d["reason"] = why;
  if (p == nullptr) return d;
  refresh_thread_map(p);
  GilTotals t = p->gil().totals();
  d["samples"] = t.samples;
  d["held_samples"] = t.held_samples;
  d["switches"] = t.switches;
  d["elapsed_s"] = t.elapsed_s;
  d["held_ratio"] = t.samples ? double(t.held_samples) / double(t.samples) : 0.0;
  nb::dict threads;
  for (const auto& [tid, n] : t.held_by_thread) threads[nb::int_(tid)] = n;
  d["held_by_thread"] = threads;
  // GIL wait sampling (gil_sampler_wait.h): ticks, and per thread [observed, waiting] ticks.
  d["wait_supported"] = t.wait_supported;
  if (!t.wait_supported) {
    const char* wait_why = p->gil().wait_unsupported_reason();
    d["wait_reason"] = wait_why != nullptr ? wait_why : "";
  }
  d["wait_ticks"] = t.wait.ticks;
  d["waiting_samples"] = t.wait.waiting_samples;
  d["wait_episodes"] = t.wait.episodes;
  d["wait_episode_seconds"] = t.wait.episode_seconds;
  d["wait_read_errors"] = t.wait_read_errors;
  nb::dict waits;
  for (const auto& [tid, c] : t.wait.by_thread)
    waits[nb::int_(tid)] = nb::make_tuple(c.first, c.second);
  d["wait_by_thread"] = waits;
  return d;
}

// Test-only: finishes `count` synthetic spans through the pipeline as the
// tracer would (on_span_end for each; submit_trace when `keep`), so exporter,
// RED and fork tests do not depend on the tracer. Not part of the public API.
int64_t test_emit_spans(int64_t count, const std::string& name, int kind, nb::handle attributes,
                        double duration_s, bool error, bool keep, int64_t spans_per_trace) {
  PipelineImpl* p = pipeline_impl();
  if (p == nullptr) return 0;
  std::vector<Attribute> attrs = attrs_of(attributes);
  nb::gil_scoped_release release;
  int64_t accepted = 0;
  if (spans_per_trace < 1) spans_per_trace = 1;
  uint64_t now = common::wall_unix_nano();
  uint64_t dur = static_cast<uint64_t>(duration_s * 1e9);
  std::vector<SpanRecord> trace;
  uint64_t tid_hi = common::random_u64(), tid_lo = 0, sid = 0;
  for (int64_t i = 0; i < count; ++i) {
    SpanRecord s;
    if (trace.empty()) {
      tid_hi = common::random_u64();
      tid_lo = common::random_u64();
    }
    std::memcpy(s.trace_id, &tid_hi, 8);
    std::memcpy(s.trace_id + 8, &tid_lo, 8);
    sid = common::random_u64() | 1;
    std::memcpy(s.span_id, &sid, 8);
    s.trace_flags = 1;
    s.name = name;
    s.kind = static_cast<common::otlp::SpanKind>(kind);
    s.start_unix_nano = now - dur;
    s.end_unix_nano = now;
    s.attributes = attrs;
    if (error) s.status_code = common::otlp::StatusCode::kError;
    p->on_span_end(s);
    if (!keep) continue;
    trace.push_back(std::move(s));
    if (static_cast<int64_t>(trace.size()) >= spans_per_trace || i + 1 == count) {
      size_t n = trace.size();
      if (p->submit_trace(std::move(trace))) accepted += static_cast<int64_t>(n);
      trace = {};
    }
  }
  return accepted;
}

}  // namespace

namespace py {
void register_pipeline(nb::module_& m) {
  m.def("start_pipeline", &start, nb::arg("service_name"), nb::arg("resource_attributes"),
        nb::arg("traces_url"), nb::arg("metrics_url"), nb::arg("logs_url"), nb::arg("headers"),
        nb::arg("export_interval_s") = 5.0, nb::arg("metrics_interval_s") = 10.0,
        nb::arg("flush_timeout_s") = 2.0, nb::arg("max_queue_spans") = 2048,
        nb::arg("max_queue_logs") = 2048, nb::arg("retry_initial_s") = 0.5,
        nb::arg("retry_max_s") = 30.0, nb::arg("max_attempts") = 5, nb::arg("gil_sampling") = true,
        nb::arg("gil_duty") = 0.1, nb::arg("compression") = "gzip",
        "Creates the process-wide pipeline (threads start lazily). False if already started.");
  // api._start(cfg) calls start_pipeline(cfg) with a Config: that form runs
  // pyrometer.runtime.start_agent(cfg), which calls the explicit form above.
  m.def(
      "start_pipeline",
      [](nb::handle cfg) {
        nb::object runtime = nb::module_::import_("pyrometer.runtime");
        return nb::cast<bool>(runtime.attr("start_agent")(cfg));
      },
      nb::arg("cfg"));
  // `flush` is bound by py_tracer.cc: it goes through tracer_output() to the
  // provider set here, i.e. to this pipeline.
  m.def(
      "shutdown", [] { shutdown_pipeline(g_flush_timeout); },
      nb::call_guard<nb::gil_scoped_release>(),
      "Flushes (bounded by flush_timeout_s) and joins the native threads. Idempotent.");
  m.def(
      "stop_pipeline", [] { shutdown_pipeline(g_flush_timeout); },
      nb::call_guard<nb::gil_scoped_release>(), "Alias of shutdown() for api._shutdown().");
  m.def(
      "submit_log",
      [](int level, const std::string& message, nb::handle attributes, nb::handle trace_id,
         nb::handle span_id, const std::string& event_name, uint64_t time_unix_nano,
         const std::string& severity_text) {
        PipelineImpl* p = pipeline_impl();
        if (p == nullptr) return false;
        LogRecordData r;
        r.observed_time_unix_nano = common::wall_unix_nano();
        r.time_unix_nano = time_unix_nano ? time_unix_nano : r.observed_time_unix_nano;
        r.severity_number = severity_from_python_level(level);
        r.severity_text = severity_text;
        r.body = message;
        r.event_name = event_name;
        r.attributes = attrs_of(attributes);
        r.has_trace = copy_id(trace_id, r.trace_id, 16) && copy_id(span_id, r.span_id, 8);
        return p->submit_log(std::move(r));
      },
      nb::arg("level"), nb::arg("message"), nb::arg("attributes") = nb::none(),
      nb::arg("trace_id") = nb::none(), nb::arg("span_id") = nb::none(), nb::arg("event_name") = "",
      nb::arg("time_unix_nano") = 0, nb::arg("severity_text") = "",
      "Queues one log record (never blocks). False when not started or the queue is full.");
  m.def("pipeline_stats", &stats_dict, "Exporter and queue counters, and the last error.");
  m.def("gil_stats", &gil_dict, "Cumulative GIL sampler counters (sampled without the GIL).");
  m.def(
      "record_gc_pause",
      [](int generation, double seconds) {
        if (PipelineImpl* p = pipeline_impl()) p->runtime().record_gc(generation, seconds);
      },
      nb::arg("generation"), nb::arg("seconds"));
  m.def(
      "record_loop_lag",
      [](double seconds) {
        if (PipelineImpl* p = pipeline_impl()) p->runtime().record_loop_lag(seconds);
      },
      nb::arg("seconds"));
  m.def(
      "record_python_gauges",
      [](int64_t modules, int64_t allocated_blocks, int64_t g0, int64_t g1, int64_t g2) {
        PipelineImpl* p = pipeline_impl();
        if (p == nullptr) return;
        const int64_t counts[3] = {g0, g1, g2};
        p->runtime().set_python_gauges(modules, allocated_blocks, counts);
        refresh_thread_map(p);
      },
      nb::arg("modules"), nb::arg("allocated_blocks"), nb::arg("gc_count0"), nb::arg("gc_count1"),
      nb::arg("gc_count2"));
  m.def(
      "take_messages", [] { return diagnostics().take_messages(); },
      "Native diagnostics not yet logged (each distinct problem once).");
  m.def("_test_emit_spans", &test_emit_spans, nb::arg("count"), nb::arg("name"),
        nb::arg("kind") = 1, nb::arg("attributes") = nb::none(), nb::arg("duration_s") = 0.001,
        nb::arg("error") = false, nb::arg("keep") = true, nb::arg("spans_per_trace") = 1);
}
}  // namespace py

}  // namespace pyrometer::agent
