// PipelineImpl: the agent's Pipeline — RED aggregates, the bounded trace and
// log queues, runtime metrics, the GIL sampler and the exporter, wired together.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "agent/diagnostics.h"
#include "agent/export_queue.h"
#include "agent/exporter.h"
#include "agent/gauge_store.h"
#include "agent/gil_sampler.h"
#include "agent/log_records.h"
#include "agent/pipeline.h"
#include "agent/red_metrics.h"
#include "agent/runtime_metrics.h"
#include "agent/shared_resource.h"

namespace pyrometer::agent {

struct PipelineConfig {
  ExportResource resource;  // instance_id is generated when empty
  ExporterConfig exporter;
  size_t max_queue_spans = 2048;
  size_t max_queue_bytes = 8 << 20;  // spans; estimated heap bytes (RSS budget: 20 MB)
  size_t max_queue_logs = 2048;
  size_t max_log_bytes = 4 << 20;
  size_t max_keys_per_family = 1000;
  size_t max_gauge_series = GaugeStore::kDefaultMaxSeries;
  bool gil_sampling = true;
  double gil_duty = 0.1;  // fraction of time the GIL sampler samples (see gil_sampler.h)
};

struct PipelineStats {
  uint64_t queued_spans = 0, queued_logs = 0;
  uint64_t dropped_spans = 0, dropped_logs = 0, dropped_points = 0;
  uint64_t sent_spans = 0, sent_logs = 0, sent_points = 0;
  uint64_t requests = 0, failed_requests = 0, retries = 0, partial_rejected = 0;
  uint64_t errors = 0;
  uint64_t red_overflow = 0;
  uint64_t dropped_gauges = 0;
  bool exporter_running = false;
  std::string last_error;
};

// Thread-safety: as Pipeline (any thread, GIL or not, never blocks on I/O),
// except flush()/shutdown(), which wait for the exporter thread: call them
// without the GIL. Threads start lazily on first use, never in the constructor.
class PipelineImpl final : public Pipeline {
 public:
  PipelineImpl(PipelineConfig cfg, GilReader gil_reader);
  ~PipelineImpl() override;

  void on_span_end(const SpanRecord& span) override;
  bool above_endpoint_p99(const SpanRecord& local_root) const override;
  // Spans of head-sampled traces reach RED when the exporter pops them (or
  // when they are dropped): the application thread skips that work.
  bool aggregates_on_export() const override { return true; }
  bool submit_trace(std::vector<SpanRecord>&& spans) override;
  // Staged per thread (TraceQueue::stage); the keep reason is written by the
  // exporter thread as it encodes the spans (otlp_batch.cc).
  bool submit_local_trace(std::vector<SpanRecord>&& spans, SpanRecord&& root) override;
  bool flush(std::chrono::milliseconds timeout) override;

  // Queues a log record; false (and counted) when the log queue is full.
  bool submit_log(LogRecordData&& record);
  // Sets a gauge series' last value (gauge_store.h). A first use like any
  // other: starts the threads, so a process that only samples gauges (a
  // Celery prefork parent) still exports. Refused (kInvalid) after shutdown.
  GaugeRecordResult record_gauge(std::string_view name, GaugeValue value,
                                 std::vector<Attribute> attributes, std::string_view unit);
  // Flushes within `timeout`, then stops every thread. Later calls are no-ops;
  // later submissions are dropped and counted.
  void shutdown(std::chrono::milliseconds timeout);
  bool is_shut_down() const { return shut_down_.load(std::memory_order_acquire); }

  PipelineStats stats() const;
  RuntimeMetrics& runtime() { return runtime_; }
  GilSampler& gil() { return gil_; }
  RedMetrics& red() { return red_; }
  GaugeStore& gauges() { return gauges_; }
  // A copy of the resource as exported now; update it with update_resource().
  ExportResource resource() const { return *resource_.get(); }
  void update_resource(const std::vector<Attribute>& attributes) { resource_.update(attributes); }

  // Fork protocol, driven by fork_safety.cc (pthread_atfork).
  void lock_for_fork();
  void unlock_for_fork();
  void reset_in_child();  // fresh queues and aggregates, new instance id, threads restart lazily

 private:
  static constexpr size_t kSpareStageBuffers = 4;

  void ensure_started() {
    if (!started_.load(std::memory_order_acquire)) start_threads();
  }
  void start_threads();
  // RED for spans still marked red_deferred (clears the mark).
  void aggregate_deferred(std::vector<SpanRecord>& spans);
  void aggregate_deferred(SpanRecord& span);
  // TraceQueue's pop hook (exporter thread): what the tracer left undone.
  void finish_trace(Trace& trace);

  PipelineConfig cfg_;
  RedMetrics red_;  // before traces_: the queue's hooks aggregate into it
  TraceQueue traces_;
  // Stage buffers the exporter sent and emptied, for submit_local_trace to
  // refill: a few, so the application thread neither allocates nor faults in
  // 16 KB every 64 kept spans.
  TraceBufferPool stage_buffers_{kSpareStageBuffers};
  LogQueue logs_;
  GilSampler gil_;
  RuntimeMetrics runtime_;
  GaugeStore gauges_;
  SharedResource resource_;
  Exporter exporter_;  // last: its thread uses the members above
  std::atomic<bool> started_{false};
  std::atomic<bool> shut_down_{false};
};

// A random UUID-v4 string, for service.instance.id.
std::string new_instance_id();

}  // namespace pyrometer::agent
