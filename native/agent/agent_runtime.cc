// The process-wide pipeline pointer behind `pipeline()` and its start/stop.
#include "agent/agent_runtime.h"

#include <atomic>
#include <mutex>

#include "agent/fork_safety.h"

namespace pyrometer::agent {
namespace {
std::atomic<PipelineImpl*> g_pipeline{nullptr};
std::mutex g_start_mu;
}  // namespace

Pipeline* pipeline() { return g_pipeline.load(std::memory_order_acquire); }

PipelineImpl* pipeline_impl() { return g_pipeline.load(std::memory_order_acquire); }

PipelineImpl* start_pipeline(PipelineConfig cfg, GilReader gil_reader) {
  std::lock_guard<std::mutex> lock(g_start_mu);
  PipelineImpl* p = g_pipeline.load(std::memory_order_acquire);
  if (p != nullptr) return p;
  p = new PipelineImpl(std::move(cfg), gil_reader);
  install_fork_handlers();
  g_pipeline.store(p, std::memory_order_release);
  return p;
}

void shutdown_pipeline(std::chrono::milliseconds timeout) {
  PipelineImpl* p = g_pipeline.load(std::memory_order_acquire);
  if (p != nullptr) p->shutdown(timeout);
}

}  // namespace pyrometer::agent
