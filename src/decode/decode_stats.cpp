#include "decode/decode_stats.h"

namespace flowscope::decode {

std::string_view decode_error_name(DecodeError e) {
  switch (e) {
#define FLOWSCOPE_DECODE_ERROR_NAME(id, name, desc) \
  case DecodeError::id: return name;
    FLOWSCOPE_DECODE_ERRORS(FLOWSCOPE_DECODE_ERROR_NAME)
#undef FLOWSCOPE_DECODE_ERROR_NAME
  }
  return "unknown";
}

std::string_view decode_error_description(DecodeError e) {
  switch (e) {
#define FLOWSCOPE_DECODE_ERROR_DESC(id, name, desc) \
  case DecodeError::id: return desc;
    FLOWSCOPE_DECODE_ERRORS(FLOWSCOPE_DECODE_ERROR_DESC)
#undef FLOWSCOPE_DECODE_ERROR_DESC
  }
  return "";
}

ExporterStats DecodeStats::total() const {
  ExporterStats t;
  for (const auto& [addr, s] : by_exporter_) t += s;
  return t;
}

}  // namespace flowscope::decode
