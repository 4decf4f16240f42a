#pragma once
// The `flowtools` module (pyflowtools-compatible; docs/python.md): FlowSet, Flow, FlowPDU and
// the Error / IOError / AttributeError exceptions, bound as the submodule
// flowscope._native.flowtools that python/flowtools/__init__.py re-exports.
// Called once, from the extension's init, with the GIL held.

#include <pybind11/pybind11.h>

namespace flowscope::python {

void bind_flowtools(pybind11::module_& m);

}  // namespace flowscope::python
