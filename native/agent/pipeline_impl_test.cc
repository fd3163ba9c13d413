// PipelineImpl: RED sees every span of a deferred (head-sampled) trace
// exactly once, whether the exporter pops it or the queue refuses it.
#include "agent/pipeline_impl.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

#include "agent/otlp_batch.h"

namespace pyrometer::agent {
namespace {

using std::chrono::milliseconds;

// Spans counted by RED's duration histograms since the last collect.
uint64_t red_spans(RedMetrics& red) {
  ExportResource res{"svc", {}, "id"};
  otlp::MetricsRequest req;
  MetricsBuilder b(res, &req);
  red.collect(&b, 1, 2);
  uint64_t n = 0;
  if (req.resource_metrics.empty()) return n;
  for (const auto& m : req.resource_metrics[0].scope_metrics[0].metrics) {
    for (const auto& p : m.exp_histogram_points) n += p.count;
  }
  return n;
}

SpanRecord deferred_span(const char* name) {
  SpanRecord s;
  s.name = name;
  s.start_unix_nano = 1000;
  s.end_unix_nano = 2000;
  s.red_deferred = true;
  return s;
}

PipelineConfig small_pipeline() {
  PipelineConfig cfg;
  cfg.resource.service_name = "svc";
  // Nothing listens on port 1: every send fails fast and the batch is dropped
  // after one attempt — after the exporter popped (and aggregated) it.
  cfg.exporter.traces_url = "http://127.0.0.1:1/v1/traces";
  cfg.exporter.metrics_url = "http://127.0.0.1:1/v1/metrics";
  cfg.exporter.logs_url = "http://127.0.0.1:1/v1/logs";
  cfg.exporter.export_interval = milliseconds(10);
  cfg.exporter.metrics_interval = milliseconds(3600 * 1000);  // the test collects itself
  cfg.exporter.max_attempts = 1;
  cfg.max_queue_spans = 16;  // a stage of 2 spans; most submissions below are refused
  cfg.gil_sampling = false;
  return cfg;
}

// Waits until the exporter has taken everything queued (or 10 s passed).
void wait_drained(PipelineImpl& p) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (p.stats().queued_spans > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(5));
  }
}

// RED's span count summed over collects until it reaches `want` (or 10 s passed). The queue
// counts a batch as taken before the pop hook has fed it to RED, so "drained" can come first.
uint64_t red_spans_reaching(RedMetrics& red, uint64_t want) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  uint64_t n = red_spans(red);
  while (n < want && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(5));
    n += red_spans(red);
  }
  return n;
}

TEST(PipelineImplTest, AggregatesDeferredSpansOnceWhetherSentOrRefused) {
  PipelineImpl p(small_pipeline(), nullptr);
  EXPECT_TRUE(p.aggregates_on_export());
  constexpr int kTraces = 500;  // 2 spans each, far more than the queue holds
  for (int i = 0; i < kTraces; ++i) {
    std::vector<SpanRecord> children;
    children.push_back(deferred_span("child"));
    p.submit_local_trace(std::move(children), deferred_span("root"));
  }
  wait_drained(p);
  ASSERT_EQ(p.stats().queued_spans, 0u);
  EXPECT_GT(p.stats().dropped_spans, 0u);  // the refused path was taken too
  uint64_t counted = red_spans_reaching(p.red(), 2u * kTraces);
  std::this_thread::sleep_for(milliseconds(20));  // a span counted twice would show up by now
  counted += red_spans(p.red());
  EXPECT_EQ(counted, 2u * kTraces);
}

TEST(PipelineImplTest, SpansNotMarkedDeferredAreNotAggregatedAgain) {
  PipelineImpl p(small_pipeline(), nullptr);
  SpanRecord root = deferred_span("root");
  root.red_deferred = false;  // the tracer fed RED itself (an unsampled trace kept later)
  p.on_span_end(root);
  p.submit_local_trace({}, std::move(root));
  wait_drained(p);
  EXPECT_EQ(red_spans(p.red()), 1u);
}

TEST(PipelineImplTest, AfterShutdownDeferredSpansStillReachRed) {
  PipelineImpl p(small_pipeline(), nullptr);
  p.shutdown(milliseconds(0));
  EXPECT_FALSE(p.submit_local_trace({}, deferred_span("root")));
  EXPECT_EQ(red_spans(p.red()), 1u);
}

}  // namespace
}  // namespace pyrometer::agent
