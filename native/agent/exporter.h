// Exporter: the one native thread that drains the export queues, collects
// metrics, encodes OTLP protobuf, gzips and POSTs it — never touching Python.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "agent/buffer_pool.h"
#include "agent/diagnostics.h"
#include "agent/export_queue.h"
#include "agent/http_client.h"
#include "agent/log_records.h"
#include "agent/otlp_batch.h"
#include "agent/shared_resource.h"
#include "agent/span_record.h"

namespace pyrometer::agent {

using Trace = std::vector<SpanRecord>;
using TraceQueue = ExportQueue<Trace>;
using TraceBufferPool = BufferPool<Trace>;
using LogQueue = ExportQueue<LogRecordData>;

// Something that contributes metric points at each metrics interval (RED
// aggregates, runtime metrics). collect() runs on the exporter thread only;
// it must not block and must not call into Python.
class MetricsSource {
 public:
  virtual ~MetricsSource() = default;
  // Appends the points of the interval [start_ns, now_ns] (wall clock).
  virtual void collect(MetricsBuilder* out, uint64_t start_ns, uint64_t now_ns) = 0;
};

struct ExporterConfig {
  std::string traces_url;  // full URLs, e.g. http://127.0.0.1:8321/v1/traces
  std::string metrics_url;
  std::string logs_url;
  std::vector<std::pair<std::string, std::string>> headers;  // incl. Authorization
  // gzip request bodies (Content-Encoding: gzip); off, bodies go as they are.
  bool gzip = true;
  std::chrono::milliseconds export_interval{5000};    // traces and logs
  std::chrono::milliseconds metrics_interval{10000};  // RED and runtime metrics
  size_t max_batch_spans = 512;
  size_t max_batch_logs = 512;
  int max_attempts = 5;  // per batch, then dropped and counted
  std::chrono::milliseconds retry_initial{500};
  std::chrono::milliseconds retry_max{30000};
  std::chrono::milliseconds retry_after_max{60000};  // cap on a server's Retry-After
  HttpClient::Options http;
};

struct ExporterStats {
  uint64_t sent_spans = 0;
  uint64_t sent_logs = 0;
  uint64_t sent_points = 0;
  uint64_t requests = 0;
  uint64_t failed_requests = 0;  // any non-2xx or connection error, retried or not
  uint64_t retries = 0;
  uint64_t dropped_spans = 0;  // queue full + gave up
  uint64_t dropped_logs = 0;
  uint64_t dropped_points = 0;
  uint64_t partial_rejected = 0;
};

// Lifecycle: constructed stopped; the thread starts on ensure_started() (the
// pipeline calls it lazily on first use, never at import) and stops in
// shutdown(), which must run before interpreter finalisation only for tidiness:
// the thread never calls into Python, so it is safe to outlive the GIL.
// Thread-safety: every public method may be called from any thread.
class Exporter {
 public:
  // The queues, resource, sources, diagnostics and pool must outlive the
  // exporter. Each request takes a snapshot of the resource (it may change
  // after fork). `spent_traces` (may be null) gets back, emptied, the traces
  // whose capacity is at least `min_recycled_spans` once they were sent: the
  // producers' stage buffers (see PipelineImpl::submit_local_trace).
  Exporter(ExporterConfig cfg, const SharedResource* resource, TraceQueue* traces, LogQueue* logs,
           std::vector<MetricsSource*> sources, Diagnostics* diag,
           TraceBufferPool* spent_traces = nullptr, size_t min_recycled_spans = 0);
  ~Exporter();
  Exporter(const Exporter&) = delete;
  Exporter& operator=(const Exporter&) = delete;

  // Starts the thread if it is not running and shutdown() was not called.
  void ensure_started();
  // A full batch is waiting: export now rather than at the next tick.
  void wake();
  // Exports everything queued now, and the metrics; waits at most `timeout`.
  // True when that cycle finished and every request in it succeeded.
  bool flush(std::chrono::milliseconds timeout);
  // Flushes (bounded by `timeout`, retries cut short), stops and joins the thread.
  void shutdown(std::chrono::milliseconds timeout);
  bool running() const;
  ExporterStats stats() const;

  // Fork protocol (see fork_safety.h): prepare → lock_for_fork; parent →
  // unlock_for_fork; child → reset_in_child (forgets the parent's thread and
  // connection; the thread restarts on the next ensure_started()).
  void lock_for_fork();
  void unlock_for_fork();
  void reset_in_child();

 private:
  using SteadyTime = std::chrono::steady_clock::time_point;
  enum class Signal { kTraces, kMetrics, kLogs };

  void run();
  // Which queued items a cycle sends: everything queued when it starts
  // (timer, flush, shutdown; not what arrives meanwhile), or only full batches (woken by producers
  // that filled one; the rest waits for a full batch or the timer, as in OTel's batch span
  // processor).
  enum class Drain { kAll, kFullBatches };
  bool export_traces(SteadyTime deadline, Drain drain);
  bool export_logs(SteadyTime deadline, Drain drain);
  bool export_metrics(SteadyTime deadline);
  // Empties *batch, handing stage-sized traces back to spent_traces_.
  void recycle(std::vector<Trace>* batch);
  // Drop totals by signal (traces, metrics, logs).
  using DropTotals = std::array<uint64_t, 3>;
  // Adds the exporter's own metrics and returns the drop totals they report. The drop counts are
  // deltas since the last *delivered* metrics export: the caller commits the returned totals to
  // reported_dropped_ only once the request was sent, so a failed export, whose points are lost,
  // does not lose the count of what was lost.
  DropTotals add_self_metrics(MetricsBuilder* b, uint64_t now_ns);
  // POSTs with retries; false when given up (caller counts the drop).
  bool send(Signal signal, const std::string& url, const std::string& body, SteadyTime deadline);
  // Sleeps up to `d`; returns false early when shutting down past the deadline.
  bool backoff_sleep(std::chrono::milliseconds d, SteadyTime deadline);

  const ExporterConfig cfg_;
  const SharedResource* resource_;
  TraceQueue* traces_;
  LogQueue* logs_;
  TraceBufferPool* spent_traces_;
  size_t min_recycled_spans_;
  std::vector<MetricsSource*> sources_;
  Diagnostics* diag_;
  HttpUrl traces_url_, metrics_url_, logs_url_;
  bool urls_ok_[3] = {false, false, false};
  // Request bodies, reused batch after batch (exporter thread only): a fresh
  // few-hundred-KB string per batch meant growth reallocations, page faults and
  // malloc consolidating the freed spans' small chunks on every large request.
  std::string body_buf_;
  std::string gzip_buf_;

  mutable std::mutex mu_;
  // Replaced (and the old one leaked) in a forked child: the parent's thread
  // may have been waiting on it at fork time, and glibc's condvar then keeps
  // waiting for that waiter forever on the child's next notify.
  std::unique_ptr<std::condition_variable> cv_ = std::make_unique<std::condition_variable>();
  std::unique_ptr<std::thread> thread_;  // guarded by mu_
  bool stop_ = false;                    // guarded by mu_
  bool shut_down_ = false;               // guarded by mu_
  bool wake_ = false;                    // guarded by mu_
  uint64_t flush_requested_ = 0;         // guarded by mu_
  uint64_t flush_done_ = 0;              // guarded by mu_
  bool last_cycle_ok_ = true;            // guarded by mu_
  SteadyTime stop_deadline_{};           // guarded by mu_

  // Only the exporter thread touches these.
  HttpClient http_;
  uint64_t last_metrics_wall_ns_ = 0;
  DropTotals reported_dropped_ = {};  // drop totals as of reported_dropped_ns_
  uint64_t reported_dropped_ns_ = 0;

  std::atomic<uint64_t> sent_spans_{0}, sent_logs_{0}, sent_points_{0}, requests_{0},
      failed_requests_{0}, retries_{0}, gave_up_points_{0}, partial_rejected_{0};
};

}  // namespace pyrometer::agent
