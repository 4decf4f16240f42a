#include "core/error.h"

#include <array>

namespace flowscope {
namespace {

struct CodeInfo {
  std::string_view name;
  std::string_view description;
};

constexpr std::array kCodeInfo = {
#define FLOWSCOPE_ERROR_INFO(name, desc) CodeInfo{#name, desc},
    FLOWSCOPE_ERROR_CODES(FLOWSCOPE_ERROR_INFO)
#undef FLOWSCOPE_ERROR_INFO
};

}  // namespace

std::string_view error_code_name(ErrorCode code) {
  return kCodeInfo[static_cast<std::size_t>(code)].name;
}

std::string_view error_code_description(ErrorCode code) {
  return kCodeInfo[static_cast<std::size_t>(code)].description;
}

std::string render_error(std::string_view what, std::string_view input, const Error& error) {
  std::string out;
  out.append(what).append(": ").append(error.message);
  if (!error.where) return out;
  // Echo the input indented by two, then the caret; tabs are kept so the caret lines up.
  std::size_t offset = std::min(error.where->offset, input.size());
  out.append("\n  ").append(input).append("\n  ");
  for (std::size_t col = 0; col < offset; ++col) out.push_back(input[col] == '\t' ? '\t' : ' ');
  out.push_back('^');
  return out;
}

}  // namespace flowscope
