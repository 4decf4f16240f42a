#pragma once
// tcpflow's `-e python` scanner through embedded CPython (pybind11 embed): at the end of each
// stream, the function `py_function` of module `py_module` (imported from directory `py_path`,
// the -S settings) is called with the stream's bytes as one str (each byte one code point,
// Latin-1, so nothing is lost); a returned value other than None is written into the stream's
// DFXML <fileobject> as <tcpflow:result scanner="python" path=… module=… function=…>…</…>.
// Built only when pybind11 is found (FLOWSCOPE_HAVE_PYTHON); otherwise available() is false.
//
// One interpreter per process, created on first use; call from the runner's thread only.
// Internal to flowscope_tcpflow: other modules use its public headers.

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "core/result.h"

namespace flowscope::capture::tcpflow {

class PythonScanner {
 public:
  static bool available();
  // Imports the module and finds the function; errors name the setting to fix.
  static Result<std::unique_ptr<PythonScanner>> open(const std::string& path,
                                                     const std::string& module,
                                                     const std::string& function);
  ~PythonScanner();
  PythonScanner(const PythonScanner&) = delete;
  PythonScanner& operator=(const PythonScanner&) = delete;

  // The XML element for one stream ("" when the function returned None or raised; a raised
  // exception is counted in errors()).
  std::string scan(std::span<const std::uint8_t> stream);
  std::uint64_t errors() const { return errors_; }

 private:
  struct Impl;
  explicit PythonScanner(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::uint64_t errors_ = 0;
};

}  // namespace flowscope::capture::tcpflow
