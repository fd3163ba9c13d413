// Fork safety: pthread_atfork handlers that keep the pipeline's locks
// consistent across fork() and give the child fresh queues and aggregates.
#pragma once

namespace pyrometer::agent {

// Registers the handlers once per process (idempotent). prepare: takes every
// pipeline lock in the documented order, so no lock is copied mid-update;
// parent: releases them; child: resets the pipeline (PipelineImpl::reset_in_child)
// — the parent's queued spans stay with the parent, so none is exported twice,
// and threads restart on the child's next use. Runs for os.fork(),
// multiprocessing's fork start method and C-level fork() alike.
void install_fork_handlers();

}  // namespace pyrometer::agent
