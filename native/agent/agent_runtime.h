// Agent runtime: the process-wide PipelineImpl — created once by
// start_pipeline (from Python), never destroyed while threads might use it.
#pragma once

#include <chrono>

#include "agent/pipeline_impl.h"

namespace pyrometer::agent {

// Creates and installs the process-wide pipeline (and the fork handlers) on
// the first call; later calls return the existing one unchanged, so starting
// twice is harmless. No thread starts here: they start on first use.
// Thread-safety: any thread; serialised internally.
PipelineImpl* start_pipeline(PipelineConfig cfg, GilReader gil_reader);

// The running pipeline, or nullptr before start_pipeline.
PipelineImpl* pipeline_impl();

// Flushes (bounded) and stops the pipeline's threads. The object itself is
// kept (leaked at exit on purpose: tracer threads may still call
// on_span_end, which then drops). Call without the GIL.
void shutdown_pipeline(std::chrono::milliseconds timeout);

}  // namespace pyrometer::agent
