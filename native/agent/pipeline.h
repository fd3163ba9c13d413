// Pipeline: everything that happens to spans after the tracer is done with
// them — RED aggregation (100% of spans), the tail-keep p99 oracle, bounded
// export queues and the exporter thread. The tracer only talks to this.
//
// Thread-safety: every method may be called from any thread, with or without
// the GIL; none of them blocks on the network or calls into the interpreter.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "agent/span.h"
#include "agent/span_record.h"

namespace pyrometer::agent {

struct ResourceInfo {
  std::string service_name;
  std::vector<std::pair<std::string, std::string>> attributes;  // OTEL_RESOURCE_ATTRIBUTES etc.
};

class Pipeline {
 public:
  virtual ~Pipeline() = default;

  // Every finished span, kept or not (cheap; no allocation on the steady
  // state). Feeds RED aggregates for server/consumer spans (per route or
  // operation), client spans (per outbound host) and DB spans (per
  // statement fingerprint, from `db.query.text`).
  virtual void on_span_end(const SpanRecord& span) = 0;

  // True when the pipeline aggregates spans marked red_deferred itself — as
  // they leave its export queue (off the application's thread, without the
  // GIL), or when it refuses or drops them — so that the tracer may skip
  // on_span_end for spans of a trace that will be submitted for sure (a
  // head-sampled one). Spans of other traces still go through on_span_end:
  // their keep decision may need the p99 that RED maintains.
  virtual bool aggregates_on_export() const { return false; }

  // True when `local_root` lasted longer than the running p99 of its
  // endpoint (same key as the RED aggregate). False while too few samples.
  virtual bool above_endpoint_p99(const SpanRecord& local_root) const = 0;

  // A kept local trace, when its local root has ended. Takes ownership.
  // Never blocks: returns false (and counts the drop) when the queue is full.
  virtual bool submit_trace(std::vector<SpanRecord>&& spans) = 0;

  // The same for a local trace whose root (last, after `spans`) may carry a
  // pending_keep_reason: the default writes it now and calls submit_trace; a
  // pipeline may instead write it off the application's thread, and avoid
  // building one vector per trace.
  virtual bool submit_local_trace(std::vector<SpanRecord>&& spans, SpanRecord&& root) {
    apply_pending_keep_reason(root);
    spans.push_back(std::move(root));
    return submit_trace(std::move(spans));
  }

  // Exports what is queued; waits at most `timeout`. Returns true if drained.
  virtual bool flush(std::chrono::milliseconds timeout) = 0;
};

// The process-wide pipeline, or nullptr when the agent is not started.
// Owned by the agent runtime (see exporter); never deleted while threads run.
Pipeline* pipeline();

}  // namespace pyrometer::agent
