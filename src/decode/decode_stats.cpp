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
  for (const auto& [addr, s] : by_exporter_) {
    t.packets += s.packets;
    t.records += s.records;
    t.templates += s.templates;
    t.options_templates += s.options_templates;
    t.options_records += s.options_records;
    t.counter_samples += s.counter_samples;
    t.withdrawals += s.withdrawals;
    t.sequence_gaps += s.sequence_gaps;
    t.restarts += s.restarts;
    t.uptime_wraps += s.uptime_wraps;
    t.unknown_elements += s.unknown_elements;
    t.enterprise_elements += s.enterprise_elements;
    t.sets_buffered += s.sets_buffered;
    t.sets_replayed += s.sets_replayed;
    t.sets_evicted += s.sets_evicted;
    t.dropped += s.dropped;
    for (std::size_t i = 0; i < kDecodeErrorCount; ++i) t.errors[i] += s.errors[i];
  }
  return t;
}

}  // namespace flowscope::decode
