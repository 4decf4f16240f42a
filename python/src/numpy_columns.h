#pragma once
// Batches as NumPy arrays, with the dtype of each field taken from the registry
// (core/field_registry.h): integers as u1/u2/u4/u8, times as datetime64[ms], durations as
// timedelta64[ms], addresses, countries and text as str. columns() views the batch's own
// memory for the fixed-width numeric types (zero-copy; the arrays keep the batch alive);
// to_structured() copies into one structured array. Absent values read as 0 / "" (NumPy has no
// missing integers). With the GIL held.

#include <memory>
#include <span>
#include <string>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "core/record_batch.h"

namespace flowscope::python {

// The NumPy type string of a field: "u4", "M8[ms]", "U39", ...; "O" for text.
std::string numpy_type(FieldId field);

// One 1-D array per field, in order: {name: array}.
pybind11::dict batch_columns(const std::shared_ptr<const SessionBatch>& batch,
                             std::span<const FieldId> fields);
pybind11::array batch_structured(const std::shared_ptr<const SessionBatch>& batch,
                                 std::span<const FieldId> fields);

// One row as {name: Python value}; absent values are None.
pybind11::dict batch_row(const SessionBatch& batch, std::span<const FieldId> fields,
                         std::size_t row);

// The same for flow records (decode()): FlowBatch has the flow fields.
pybind11::dict flow_row(const FlowBatch& batch, std::span<const FieldId> fields, std::size_t row);

}  // namespace flowscope::python
