#include "capture/tcpflow/python_scanner.h"

#include <fmt/format.h>

#include "capture/tcpflow/dfxml_report.h"

#ifdef FLOWSCOPE_HAVE_PYTHON
#include <pybind11/embed.h>
namespace py = pybind11;
#endif

namespace flowscope::capture::tcpflow {

#ifdef FLOWSCOPE_HAVE_PYTHON

struct PythonScanner::Impl {
  std::string path;
  std::string module;
  std::string function;
  py::object callable;
};

namespace {
// The interpreter lives until the process ends (pybind11 cannot restart one cleanly).
void ensure_interpreter() {
  if (!Py_IsInitialized()) py::initialize_interpreter();
}
}  // namespace

bool PythonScanner::available() { return true; }

Result<std::unique_ptr<PythonScanner>> PythonScanner::open(const std::string& path,
                                                           const std::string& module,
                                                           const std::string& function) {
  if (module.empty() || function.empty()) {
    return Error{ErrorCode::InvalidArgument,
                 "-e python needs -S py_module=NAME and -S py_function=NAME (and -S py_path=DIR)"};
  }
  ensure_interpreter();
  try {
    if (!path.empty()) py::module_::import("sys").attr("path").attr("append")(path);
    py::object mod = py::module_::import(module.c_str());
    py::object fn = mod.attr(function.c_str());
    auto impl = std::make_unique<Impl>();
    impl->path = path;
    impl->module = module;
    impl->function = function;
    impl->callable = std::move(fn);
    return std::unique_ptr<PythonScanner>(new PythonScanner(std::move(impl)));
  } catch (const py::error_already_set& e) {
    return Error{ErrorCode::InvalidArgument,
                 fmt::format("python scanner: cannot load {}.{} from '{}': {}; check -S py_path, "
                             "py_module and py_function",
                             module, function, path, e.what())};
  }
}

PythonScanner::PythonScanner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

PythonScanner::~PythonScanner() {
  if (impl_ && Py_IsInitialized()) {
    py::gil_scoped_acquire gil;
    impl_->callable = py::object();
  }
}

std::string PythonScanner::scan(std::span<const std::uint8_t> stream) {
  try {
    py::object text = py::reinterpret_steal<py::object>(
        PyUnicode_DecodeLatin1(reinterpret_cast<const char*>(stream.data()),
                               static_cast<Py_ssize_t>(stream.size()), nullptr));
    py::object result = impl_->callable(text);
    if (result.is_none()) return {};
    return fmt::format(
        "<tcpflow:result scanner=\"python\" path=\"{}\" module=\"{}\" function=\"{}\">{}"
        "</tcpflow:result>",
        xml_escape(impl_->path), xml_escape(impl_->module), xml_escape(impl_->function),
        xml_escape(py::str(result).cast<std::string>()));
  } catch (const py::error_already_set&) {
    ++errors_;
    return {};
  }
}

#else  // no pybind11 at build time

struct PythonScanner::Impl {};
bool PythonScanner::available() { return false; }
Result<std::unique_ptr<PythonScanner>> PythonScanner::open(const std::string&, const std::string&,
                                                           const std::string&) {
  return Error{ErrorCode::Unsupported,
               "this flowscope was built without Python (pybind11); -e python is unavailable"};
}
PythonScanner::PythonScanner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PythonScanner::~PythonScanner() = default;
std::string PythonScanner::scan(std::span<const std::uint8_t>) { return {}; }

#endif

}  // namespace flowscope::capture::tcpflow
