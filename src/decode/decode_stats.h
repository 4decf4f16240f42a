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

// Counters of one exporter (all its source ids / observation domains together).
struct ExporterStats {
  std::uint64_t packets = 0;              // datagrams that reached a protocol decoder
  std::uint64_t records = 0;              // flow records appended to a batch
  std::uint64_t templates = 0;            // template records accepted (new or refreshed)
  std::uint64_t options_templates = 0;    // options template records accepted
  std::uint64_t options_records = 0;      // options data records read (sampler, uptime, ...)
  std::uint64_t counter_samples = 0;      // sFlow counter samples read
  std::uint64_t withdrawals = 0;          // IPFIX template withdrawals (RFC 7011 §8.1)
  std::uint64_t sequence_gaps = 0;        // header sequence differs from the expected one
  std::uint64_t restarts = 0;             // exporter restarts detected (uptime/sequence reset)
  std::uint64_t uptime_wraps = 0;         // IPFIX uptime times read modulo 2^32 (before systemInit)
  std::uint64_t unknown_elements = 0;     // template fields with no registry mapping (skipped)
  std::uint64_t enterprise_elements = 0;  // enterprise-specific fields (skipped)
  std::uint64_t sets_buffered = 0;        // data sets held until their template arrived
  std::uint64_t sets_replayed = 0;        // buffered sets decoded once the template came
  std::uint64_t sets_evicted = 0;         // buffered sets dropped to respect the buffer cap
  std::uint64_t dropped = 0;              // datagrams, sets or records dropped (sum of errors)
  std::array<std::uint64_t, kDecodeErrorCount> errors{};

  std::uint64_t error(DecodeError e) const { return errors[static_cast<std::size_t>(e)]; }
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
