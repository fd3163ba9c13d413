// Where the running CPython keeps its GIL state, read without holding the GIL.
// The only file that knows interpreter-version-specific GIL layouts.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "agent/gil_sampler.h"

namespace pyrometer::agent::cpython {

// Plain loads of {locked, last_holder, switch_number}; false (and nothing
// read) on interpreter versions this build does not support. Safe to call from
// any native thread at any time the interpreter is initialised.
bool read_gil_state(GilSnapshot* out);

// Why read_gil_state() is unavailable here, or nullptr when it is supported.
const char* gil_state_unsupported_reason();

// PyThreadState* → native thread id for the current interpreter's threads.
// REQUIRES the GIL (walks the interpreter's thread list).
std::vector<std::pair<uintptr_t, uint64_t>> thread_state_map();

}  // namespace pyrometer::agent::cpython
