#pragma once
// Per-exporter counters of the flow decoders (docs/decode.md "Counters"). Malformed input is
// normal (docs/conventions.md "Errors"): every dropped packet, set or record increments one
// named counter here, in the way Zeek reports weirds, and decoding goes on with the next one.
//
// The error kinds are one X-macro list so that names, `flowscope decode --stats` and the docs
// cannot drift apart. A DecodeStats is owned by one FlowDecoder and used from its thread only.

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string_view>

#include "core/ip_address.h"

namespace flowscope::decode {

// M(Enumerator, "counter_name", "what it means")
#define FLOWSCOPE_DECODE_ERRORS(M)                                                              \
  M(TruncatedHeader, "truncated_header", "datagram shorter than its protocol header")           \
  M(UnsupportedVersion, "unsupported_version", "version word is not 1, 5, 7, 9, 10 (or sFlow)") \
  M(BadRecordCount, "bad_record_count",                                                         \
    "v1/v5/v7 count is 0 or past the end (the records that fit are kept)")                      \
  M(LengthMismatch, "length_mismatch", "IPFIX message length differs from the datagram")        \
  M(SetTooShort, "set_too_short", "set/flowset length shorter than its 4-byte header")          \
  M(SetLengthOverrun, "set_length_overrun", "set/flowset length runs past the datagram")        \
  M(BadSetId, "bad_set_id", "reserved set id (2-255 in v9, 0-1 and 4-255 in IPFIX)")            \
  M(BadTemplate, "bad_template", "template record truncated, empty or with a reserved id")      \
  M(BadTemplateField, "bad_template_field", "template field with an absurd length")             \
  M(TemplateLimit, "template_limit", "template refused: the cache is full")                     \
  M(UnknownTemplate, "unknown_template", "data set dropped: its template never arrived")        \
  M(BadVariableLength, "bad_variable_length", "variable-length field runs past its record")     \
  M(TrailingGarbage, "trailing_garbage", "bytes after the last set that are not zero padding")  \
  M(SflowBadSample, "sflow_bad_sample", "sFlow sample or record runs past its container")       \
  M(SflowUnknownFormat, "sflow_unknown_format", "sFlow v2/v4 type without a length: rest lost") \
  M(SflowBadHeader, "sflow_bad_header", "sFlow sampled packet header without IP addresses")

enum class DecodeError : std::uint8_t {
#define FLOWSCOPE_DECODE_ERROR_ENUM(id, name, desc) id,
  FLOWSCOPE_DECODE_ERRORS(FLOWSCOPE_DECODE_ERROR_ENUM)
#undef FLOWSCOPE_DECODE_ERROR_ENUM
};

inline constexpr std::size_t kDecodeErrorCount = 0
#define FLOWSCOPE_DECODE_ERROR_COUNT(...) +1
    FLOWSCOPE_DECODE_ERRORS(FLOWSCOPE_DECODE_ERROR_COUNT)
#undef FLOWSCOPE_DECODE_ERROR_COUNT
    ;

std::string_view decode_error_name(DecodeError e);
std::string_view decode_error_description(DecodeError e);

// M(member, "what it counts"): the named counters of one exporter besides the error kinds, one
// list so that summing, merging and every place that prints them (decode --stats, /metrics,
// /api/v1/exporters) walk the same members.
#define FLOWSCOPE_EXPORTER_COUNTERS(M)                                       \
  M(packets, "datagrams that reached a protocol decoder")                    \
  M(records, "flow records appended to a batch")                             \
  M(templates, "template records accepted (new or refreshed)")               \
  M(options_templates, "options template records accepted")                  \
  M(options_records, "options data records read (sampler, uptime, ...)")     \
  M(counter_samples, "sFlow counter samples read")                           \
  M(withdrawals, "IPFIX template withdrawals (RFC 7011 section 8.1)")        \
  M(sequence_gaps, "header sequence differs from the expected one")          \
  M(restarts, "exporter restarts detected (uptime/sequence reset)")          \
  M(uptime_wraps, "IPFIX uptime times read modulo 2^32 (before systemInit)") \
  M(unknown_elements, "template fields with no registry mapping (skipped)")  \
  M(enterprise_elements, "enterprise-specific fields (skipped)")             \
  M(sets_buffered, "data sets held until their template arrived")            \
  M(sets_replayed, "buffered sets decoded once the template came")           \
  M(sets_evicted, "buffered sets dropped to respect the buffer cap")         \
  M(dropped, "datagrams, sets or records dropped (sum of errors)")

// Counters of one exporter (all its source ids / observation domains together).
struct ExporterStats {
#define FLOWSCOPE_EXPORTER_COUNTER_MEMBER(member, desc) std::uint64_t member = 0;
  FLOWSCOPE_EXPORTER_COUNTERS(FLOWSCOPE_EXPORTER_COUNTER_MEMBER)
#undef FLOWSCOPE_EXPORTER_COUNTER_MEMBER
  std::array<std::uint64_t, kDecodeErrorCount> errors{};

  std::uint64_t error(DecodeError e) const { return errors[static_cast<std::size_t>(e)]; }

  // Adds every counter and error kind of `other` (the sum over exporters, decoders, workers).
  ExporterStats& operator+=(const ExporterStats& other) {
#define FLOWSCOPE_EXPORTER_COUNTER_ADD(member, desc) member += other.member;
    FLOWSCOPE_EXPORTER_COUNTERS(FLOWSCOPE_EXPORTER_COUNTER_ADD)
#undef FLOWSCOPE_EXPORTER_COUNTER_ADD
    for (std::size_t i = 0; i < kDecodeErrorCount; ++i) errors[i] += other.errors[i];
    return *this;
  }

  // f(name, value) for each named counter in the list's order, then f(name, value) for each
  // error kind by its counter name.
  template <typename F>
  void for_each_counter(F&& f) const {
#define FLOWSCOPE_EXPORTER_COUNTER_VISIT(member, desc) f(std::string_view{#member}, member);
    FLOWSCOPE_EXPORTER_COUNTERS(FLOWSCOPE_EXPORTER_COUNTER_VISIT)
#undef FLOWSCOPE_EXPORTER_COUNTER_VISIT
    for (std::size_t i = 0; i < kDecodeErrorCount; ++i) {
      f(decode_error_name(static_cast<DecodeError>(i)), errors[i]);
    }
  }
};

class DecodeStats {
 public:
  ExporterStats& of(const IpAddress& exporter) { return by_exporter_[exporter]; }
  void count(const IpAddress& exporter, DecodeError e) {
    ExporterStats& s = of(exporter);
    ++s.errors[static_cast<std::size_t>(e)];
    ++s.dropped;
  }
  const std::map<IpAddress, ExporterStats>& exporters() const { return by_exporter_; }
  // The sum over all exporters.
  ExporterStats total() const;

 private:
  std::map<IpAddress, ExporterStats> by_exporter_;
};

}  // namespace flowscope::decode
