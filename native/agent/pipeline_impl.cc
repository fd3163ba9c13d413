// PipelineImpl: routes finished spans to RED, kept traces and logs to their
// bounded queues, and owns the lifecycle of the exporter and GIL sampler threads.
#include "agent/pipeline_impl.h"

#include <algorithm>
#include <cstdio>

#include "common/clock.h"
#include "common/random.h"

namespace pyrometer::agent {

std::string new_instance_id() {
  uint64_t hi = common::random_u64(), lo = common::random_u64();
  hi = (hi & 0xFFFFFFFFFFFF0FFFull) | 0x0000000000004000ull;  // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;  // variant 10
  char buf[37];
  std::snprintf(buf, sizeof(buf), "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xFFFF), static_cast<unsigned>(hi & 0xFFFF),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFull));
  return buf;
}

namespace {
PipelineConfig with_instance_id(PipelineConfig cfg) {
  if (cfg.resource.instance_id.empty()) cfg.resource.instance_id = new_instance_id();
  return cfg;
}

// Gauges are re-exported with their last value until not updated for three
// metrics intervals, and never sooner than 30 s: a reading taken every 10 s
// must not flicker at a 1 s interval.
uint64_t gauge_stale_ns(const ExporterConfig& e) {
  auto ms = std::max<int64_t>(3 * e.metrics_interval.count(), 30000);
  return static_cast<uint64_t>(ms) * 1'000'000;
}
}  // namespace

PipelineImpl::PipelineImpl(PipelineConfig cfg, GilReader gil_reader)
    : cfg_(with_instance_id(std::move(cfg))),
      red_(cfg_.max_keys_per_family),
      traces_(
          cfg_.max_queue_spans, cfg_.max_queue_bytes, [this](Trace& t) { finish_trace(t); },
          [this](Trace& t) { aggregate_deferred(t); }),
      logs_(cfg_.max_queue_logs, cfg_.max_log_bytes),
      gil_(cfg_.gil_sampling ? gil_reader : nullptr, std::chrono::microseconds(500), cfg_.gil_duty),
      runtime_(&gil_),
      gauges_(cfg_.max_gauge_series, gauge_stale_ns(cfg_.exporter), &diagnostics()),
      resource_(cfg_.resource),
      exporter_(cfg_.exporter, &resource_, &traces_, &logs_, {&red_, &runtime_, &gauges_},
                &diagnostics(), &stage_buffers_, traces_.stage_units()) {}

PipelineImpl::~PipelineImpl() { shutdown(std::chrono::milliseconds(0)); }

void PipelineImpl::start_threads() {
  if (shut_down_.load(std::memory_order_acquire)) return;
  exporter_.ensure_started();
  gil_.ensure_started();
  started_.store(true, std::memory_order_release);
}

void PipelineImpl::on_span_end(const SpanRecord& span) {
  if (shut_down_.load(std::memory_order_relaxed)) return;
  ensure_started();
  red_.on_span_end(span);
}

void PipelineImpl::aggregate_deferred(std::vector<SpanRecord>& spans) {
  for (SpanRecord& s : spans) aggregate_deferred(s);
}

void PipelineImpl::aggregate_deferred(SpanRecord& span) {
  if (!span.red_deferred) return;
  span.red_deferred = false;
  red_.on_span_end(span);
}

void PipelineImpl::finish_trace(Trace& trace) {
  // The keep reason stays pending: the encoder writes it (otlp_batch.cc), and
  // RED keys never see it.
  for (SpanRecord& s : trace) aggregate_deferred(s);
}

bool PipelineImpl::above_endpoint_p99(const SpanRecord& local_root) const {
  return red_.above_p99(local_root);
}

bool PipelineImpl::submit_trace(std::vector<SpanRecord>&& spans) {
  if (spans.empty()) return true;
  if (shut_down_.load(std::memory_order_relaxed)) {
    traces_.add_dropped(spans.size());
    aggregate_deferred(spans);
    return false;
  }
  ensure_started();
  size_t n = spans.size(), bytes = 0;
  for (const SpanRecord& s : spans) bytes += approx_bytes(s);
  size_t queued = 0;
  bool ok = traces_.push(std::move(spans), n, bytes, &queued);
  // Wake once, when a batch's worth is first reached (not on every later push).
  const size_t batch = traces_.full_units(cfg_.exporter.max_batch_spans);
  if (ok && queued >= batch && queued - n < batch) exporter_.wake();
  return ok;
}

bool PipelineImpl::submit_local_trace(std::vector<SpanRecord>&& spans, SpanRecord&& root) {
  if (shut_down_.load(std::memory_order_relaxed)) {
    traces_.add_dropped(spans.size() + 1);
    aggregate_deferred(spans);
    aggregate_deferred(root);
    return false;
  }
  ensure_started();
  constexpr size_t kKeepReasonBytes = 64;  // the attribute the pop hook adds
  const size_t n = spans.size() + 1;
  bool dropped = false, appended = false;
  const size_t queued = traces_.stage(
      [&](Trace& stage) {
        appended = true;
        size_t bytes = approx_bytes(root) + kKeepReasonBytes;
        if (stage.capacity() == 0 && !stage_buffers_.take(&stage)) {
          stage.reserve(traces_.stage_units());
        }
        for (SpanRecord& s : spans) {
          bytes += approx_bytes(s);
          stage.push_back(std::move(s));
        }
        stage.push_back(std::move(root));
        return bytes;
      },
      n, &dropped);
  // A stage that joined took the queue to `queued`: wake when that first
  // reaches a batch's worth (a join adds at most kStageUnits + n - 1 units).
  if (dropped && !appended) {  // refused before the stage took them (queue full)
    aggregate_deferred(spans);
    aggregate_deferred(root);
  }
  const size_t batch = traces_.full_units(cfg_.exporter.max_batch_spans);
  if (!dropped && queued >= batch && queued < batch + TraceQueue::kStageUnits + n) {
    exporter_.wake();
  }
  return !dropped;
}

bool PipelineImpl::submit_log(LogRecordData&& record) {
  if (shut_down_.load(std::memory_order_relaxed)) {
    logs_.add_dropped(1);
    return false;
  }
  ensure_started();
  size_t bytes = approx_bytes(record);
  if (!logs_.push(std::move(record), 1, bytes)) return false;
  if (logs_.units() >= logs_.full_units(cfg_.exporter.max_batch_logs)) exporter_.wake();
  return true;
}

GaugeRecordResult PipelineImpl::record_gauge(std::string_view name, GaugeValue value,
                                             std::vector<Attribute> attributes,
                                             std::string_view unit) {
  if (shut_down_.load(std::memory_order_relaxed)) return GaugeRecordResult::kInvalid;
  ensure_started();
  return gauges_.record(name, value, std::move(attributes), unit, common::wall_unix_nano());
}

bool PipelineImpl::flush(std::chrono::milliseconds timeout) {
  if (shut_down_.load(std::memory_order_acquire)) return false;
  ensure_started();
  return exporter_.flush(timeout);
}

void PipelineImpl::shutdown(std::chrono::milliseconds timeout) {
  if (shut_down_.exchange(true)) return;
  gil_.stop();
  exporter_.shutdown(timeout);
}

PipelineStats PipelineImpl::stats() const {
  PipelineStats s;
  ExporterStats e = exporter_.stats();
  s.queued_spans = traces_.units();
  s.queued_logs = logs_.units();
  s.dropped_spans = e.dropped_spans;
  s.dropped_logs = e.dropped_logs;
  s.dropped_points = e.dropped_points;
  s.sent_spans = e.sent_spans;
  s.sent_logs = e.sent_logs;
  s.sent_points = e.sent_points;
  s.requests = e.requests;
  s.failed_requests = e.failed_requests;
  s.retries = e.retries;
  s.partial_rejected = e.partial_rejected;
  s.errors = diagnostics().error_count();
  s.last_error = diagnostics().last_error();
  s.red_overflow = red_.overflowed();
  s.dropped_gauges = gauges_.dropped();
  s.exporter_running = exporter_.running();
  return s;
}

// Lock order (everywhere): diagnostics → exporter → trace queue → stage
// buffers → log queue → RED shards → runtime → GIL sampler → gauges →
// resource. No other path holds two of these in another order, so prepare
// cannot deadlock with a running thread.
void PipelineImpl::lock_for_fork() {
  diagnostics().lock_for_fork();
  exporter_.lock_for_fork();
  traces_.lock_for_fork();
  stage_buffers_.lock_for_fork();
  logs_.lock_for_fork();
  red_.lock_for_fork();
  runtime_.lock_for_fork();
  gil_.lock_for_fork();
  gauges_.lock_for_fork();
  resource_.lock_for_fork();
}

void PipelineImpl::unlock_for_fork() {
  resource_.unlock_for_fork();
  gauges_.unlock_for_fork();
  gil_.unlock_for_fork();
  runtime_.unlock_for_fork();
  red_.unlock_for_fork();
  logs_.unlock_for_fork();
  stage_buffers_.unlock_for_fork();
  traces_.unlock_for_fork();
  exporter_.unlock_for_fork();
  diagnostics().unlock_for_fork();
}

void PipelineImpl::reset_in_child() {
  common::reseed_after_fork();  // before the new instance id is drawn
  cfg_.resource.instance_id = new_instance_id();
  resource_.unlock_for_fork();
  resource_.set_instance_id(cfg_.resource.instance_id);  // typed attributes stay (see runtime.py)
  gauges_.reset_in_child();
  gil_.reset_in_child();
  runtime_.reset_in_child();
  red_.reset_in_child();
  logs_.reset_in_child();
  stage_buffers_.unlock_for_fork();  // the buffers stay: plain memory, nothing queued in them
  traces_.reset_in_child();
  exporter_.reset_in_child();
  diagnostics().reset_in_child();
  started_.store(false, std::memory_order_release);
}

}  // namespace pyrometer::agent
