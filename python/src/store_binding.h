#pragma once
// The `flowscope` module's native part (docs/python.md): fields() from the registry,
// open(path) for a local store and connect(...) for a server, both answering query() with a
// QueryResult (iterable, to_numpy, columns) and stat() with JSON lines that
// python/flowscope/__init__.py turns into rows and DataFrames; decode(pcap) and capture(pcap).
// Called once, from the extension's init, with the GIL held.

#include <pybind11/pybind11.h>

namespace flowscope::python {

void bind_store(pybind11::module_& m);

}  // namespace flowscope::python
