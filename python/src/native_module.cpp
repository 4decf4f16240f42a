// flowscope._native: the one extension behind `import flowscope` and `import flowtools`
// (docs/python.md). Python code lives in python/flowscope and python/flowtools.
#include <pybind11/pybind11.h>

#include "flowtools_binding.h"
#include "store_binding.h"

PYBIND11_MODULE(_native, m) {
  m.doc() = "flowscope's native extension: use the flowscope and flowtools modules";
  auto ft = m.def_submodule("flowtools", "pyflowtools-compatible flow-tools access");
  flowscope::python::bind_flowtools(ft);
  flowscope::python::bind_store(m);
}
