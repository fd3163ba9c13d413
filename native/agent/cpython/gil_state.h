// Where the running CPython keeps its GIL state, read without holding the GIL.
// Version-specific layouts are in gil_layout.h, included only by gil_state.cc.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "agent/gil_sampler.h"

namespace pyrometer::agent::cpython {

// Plain relaxed loads of the main interpreter's {locked, last_holder,
// switch_number} and the addresses of its wait objects; never takes the GIL
// nor calls the C API. False (and nothing read) on builds this file does not
// support (free-threaded, versions outside 3.9–3.13), while the GIL does not
// exist, and for good once the first reading found the running interpreter's
// layout different from the headers compiled in. Safe to call from any native
// thread at any time.
bool read_gil_state(GilSnapshot* out);

// Why read_gil_state() is unavailable here, or nullptr when it is (so far)
// supported: fixed for unsupported builds, set by a failed layout check.
const char* gil_state_unsupported_reason();

// PyThreadState* → native thread id for the current interpreter's threads.
// REQUIRES the GIL (walks the interpreter's thread list). On 3.9/3.10 it also
// runs Python code (threading's Thread.native_id), so it may drop and retake
// the GIL before walking; threads `threading` does not know are left out.
std::vector<std::pair<uintptr_t, uint64_t>> thread_state_map();

}  // namespace pyrometer::agent::cpython
