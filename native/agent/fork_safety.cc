// pthread_atfork handlers for the process-wide pipeline.
#include "agent/fork_safety.h"

#include <pthread.h>

#include <mutex>

#include "agent/agent_runtime.h"

namespace pyrometer::agent {
namespace {

// The pipeline locked by prepare(): parent()/child() act on exactly that one,
// even if another thread installed a pipeline in between.
PipelineImpl* g_locked = nullptr;

void prepare() {
  g_locked = pipeline_impl();
  if (g_locked != nullptr) g_locked->lock_for_fork();
}
void parent() {
  if (g_locked != nullptr) g_locked->unlock_for_fork();
  g_locked = nullptr;
}
void child() {
  if (g_locked != nullptr) g_locked->reset_in_child();
  g_locked = nullptr;
}

}  // namespace

void install_fork_handlers() {
  static std::once_flag once;
  std::call_once(once, [] { pthread_atfork(prepare, parent, child); });
}

}  // namespace pyrometer::agent
