// pyrometer._native: the binding layer between Python and the agent core.
// Every entry point is listed in python/pyrometer/_native.pyi.
#include <nanobind/nanobind.h>

namespace nb = nanobind;

NB_MODULE(_native, m) {
  m.doc() = "Pyrometer agent core (C++). See python/pyrometer/_native.pyi.";
  m.attr("ABI_VERSION") = 1;
}
