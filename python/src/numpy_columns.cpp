// Batches as NumPy arrays and Python rows; types from the registry (numpy_columns.h).
#include "numpy_columns.h"

#include <algorithm>
#include <cstring>
#include <variant>

namespace py = pybind11;

namespace flowscope::python {
namespace {

constexpr std::size_t kIpTextChars = 39;  // the longest IPv6 text form

template <typename T>
const std::vector<T>* vec_of(const Column& col) {
  return std::get_if<std::vector<T>>(&col.data());
}

// A value as text for the str-typed columns.
std::string text_of(const Column& col, std::size_t row) {
  switch (col.info().type) {
    case FieldType::Ip: return (*vec_of<IpAddress>(col))[row].to_string();
    case FieldType::Country: return std::string((*vec_of<CountryCode>(col))[row].view());
    case FieldType::String: return std::string(col.strings().get(row));
    default: return {};
  }
}

bool is_text(FieldType t) {
  return t == FieldType::Ip || t == FieldType::Country || t == FieldType::String;
}

py::object python_value(const Column& col, std::size_t row) {
  if (!col.valid(row)) return py::none();
  const FieldType t = col.info().type;
  if (is_text(t)) return py::str(text_of(col, row));
  return std::visit(
      [&](const auto& v) -> py::object {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, std::vector<std::int64_t>>) {
          if (t == FieldType::Time) {
            // A datetime in UTC, as pandas and the datetime module expect.
            py::object dt = py::module_::import("datetime");
            return dt.attr("datetime")
                .attr("fromtimestamp")(static_cast<double>(v[row]) / 1000.0,
                                       dt.attr("timezone").attr("utc"));
          }
          return py::int_(v[row]);
        } else if constexpr (std::is_same_v<V, std::vector<std::uint8_t>> ||
                             std::is_same_v<V, std::vector<std::uint16_t>> ||
                             std::is_same_v<V, std::vector<std::uint32_t>> ||
                             std::is_same_v<V, std::vector<std::uint64_t>>) {
          return py::int_(v[row]);
        } else {
          return py::none();
        }
      },
      col.data());
}

template <RecordKind K>
py::dict row_of(const Batch<K>& batch, std::span<const FieldId> fields, std::size_t row) {
  py::dict d;
  for (FieldId f : fields) {
    d[py::str(std::string(field_info(f).name))] =
        batch.has_column(f) ? python_value(batch.column(f), row) : py::object(py::none());
  }
  return d;
}

}  // namespace

std::string numpy_type(FieldId field) {
  switch (field_info(field).type) {
    case FieldType::Ip: return "U" + std::to_string(kIpTextChars);
    case FieldType::U8:
    case FieldType::TcpFlags:
    case FieldType::Proto: return "u1";
    case FieldType::U16: return "u2";
    case FieldType::U32: return "u4";
    case FieldType::U64: return "u8";
    case FieldType::Time: return "M8[ms]";
    case FieldType::Duration: return "m8[ms]";
    case FieldType::Country: return "U2";
    case FieldType::String: return "O";
  }
  return "O";
}

py::dict batch_columns(const std::shared_ptr<const SessionBatch>& batch,
                       std::span<const FieldId> fields) {
  py::dict out;
  const std::size_t rows = batch->size();
  // The capsule owns a reference to the batch: arrays that view its memory keep it alive.
  auto* keep = new std::shared_ptr<const SessionBatch>(batch);
  py::capsule owner(keep,
                    [](void* p) { delete static_cast<std::shared_ptr<const SessionBatch>*>(p); });
  for (FieldId f : fields) {
    const std::string name(field_info(f).name);
    const py::dtype dtype(numpy_type(f));
    if (!batch->has_column(f)) {
      out[py::str(name)] =
          py::array(dtype, std::vector<py::ssize_t>{static_cast<py::ssize_t>(rows)});
      continue;
    }
    const Column& col = batch->column(f);
    if (is_text(col.info().type)) {
      py::list values;
      for (std::size_t r = 0; r < rows; ++r) values.append(py::str(text_of(col, r)));
      out[py::str(name)] = py::module_::import("numpy").attr("array")(values, dtype);
      continue;
    }
    const void* data = std::visit(
        [](const auto& v) -> const void* {
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, StringColumn>) {
            return nullptr;
          } else {
            return v.data();
          }
        },
        col.data());
    // Zero-copy: the array is a read-only view of the column.
    py::array view(dtype, std::vector<py::ssize_t>{static_cast<py::ssize_t>(rows)},
                   std::vector<py::ssize_t>{static_cast<py::ssize_t>(dtype.itemsize())}, data,
                   owner);
    py::detail::array_proxy(view.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
    out[py::str(name)] = view;
  }
  return out;
}

py::array batch_structured(const std::shared_ptr<const SessionBatch>& batch,
                           std::span<const FieldId> fields) {
  py::list names, formats;
  for (FieldId f : fields) {
    names.append(std::string(field_info(f).name));
    formats.append(numpy_type(f));
  }
  py::dict spec;
  spec["names"] = names;
  spec["formats"] = formats;
  const py::dtype dtype = py::dtype::from_args(spec);
  const std::size_t rows = batch->size();
  py::array out(dtype, std::vector<py::ssize_t>{static_cast<py::ssize_t>(rows)});
  // Column by column, through NumPy's strided assignment: out[name] = column.
  py::dict columns = batch_columns(batch, fields);
  for (FieldId f : fields) {
    py::str name(std::string(field_info(f).name));
    out[name] = columns[name];
  }
  return out;
}

py::dict batch_row(const SessionBatch& batch, std::span<const FieldId> fields, std::size_t row) {
  return row_of(batch, fields, row);
}

py::dict flow_row(const FlowBatch& batch, std::span<const FieldId> fields, std::size_t row) {
  return row_of(batch, fields, row);
}

}  // namespace flowscope::python
