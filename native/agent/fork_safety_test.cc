// fork() with a live pipeline: the child starts with empty queues and RED, a
// new instance id, working locks and threads; the parent keeps its items.
#include "agent/fork_safety.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/agent_runtime.h"

namespace pyrometer::agent {
namespace {

std::vector<SpanRecord> trace_of(int n) {
  std::vector<SpanRecord> t(n);
  for (auto& s : t) {
    s.name = "op";
    s.end_unix_nano = 1000;
  }
  return t;
}

TEST(ForkSafetyTest, ChildGetsFreshPipelineParentKeepsItsQueue) {
  PipelineConfig cfg;
  cfg.resource.service_name = "fork-test";
  // Port 9 (discard) on loopback: refused, so nothing leaves the machine and
  // the items stay queued between retries.
  cfg.exporter.traces_url = "http://127.0.0.1:9/v1/traces";
  cfg.exporter.metrics_url = "http://127.0.0.1:9/v1/metrics";
  cfg.exporter.logs_url = "http://127.0.0.1:9/v1/logs";
  cfg.exporter.export_interval = std::chrono::milliseconds(60000);
  PipelineImpl* p = start_pipeline(cfg, nullptr);
  ASSERT_EQ(p, pipeline_impl());
  ASSERT_EQ(start_pipeline(cfg, nullptr), p);                   // idempotent
  for (int i = 0; i < 10; ++i) p->on_span_end(trace_of(1)[0]);  // starts the threads
  ASSERT_TRUE(p->submit_trace(trace_of(5)));
  const std::string parent_id = p->resource().instance_id;

  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Child: no gtest assertions (they would report in both processes).
    int bad = 0;
    PipelineStats s = p->stats();
    if (s.queued_spans != 0) bad |= 1;
    if (s.exporter_running) bad |= 2;  // the parent's thread does not exist here
    if (p->resource().instance_id == parent_id) bad |= 4;
    if (!p->submit_trace(trace_of(3))) bad |= 8;  // locks usable, thread restarts
    if (!p->stats().exporter_running) bad |= 16;
    if (p->stats().queued_spans != 3) bad |= 32;
    p->shutdown(std::chrono::milliseconds(0));
    _exit(bad);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(p->stats().queued_spans, 5u);
  EXPECT_EQ(p->resource().instance_id, parent_id);
  EXPECT_TRUE(p->stats().exporter_running);
  shutdown_pipeline(std::chrono::milliseconds(0));
  EXPECT_FALSE(p->stats().exporter_running);
  EXPECT_FALSE(p->submit_trace(trace_of(1)));  // after shutdown: dropped and counted
}

}  // namespace
}  // namespace pyrometer::agent
