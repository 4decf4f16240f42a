#pragma once
// IPFIX (RFC 7011): the message header, template sets (with withdrawals, RFC 7011 §8.1) and
// options template sets, including enterprise-specific field specifiers. Data sets and all
// template handling after parsing go to the shared TemplateEngine.
// One decoder per FlowDecoder, used from its thread only.
// Internal to flowscope_decode: other modules use its public headers.

#include <cstddef>
#include <span>

#include "core/record_batch.h"
#include "decode/decode_stats.h"
#include "decode/sequence_tracker.h"
#include "decode/template_engine.h"

namespace flowscope::decode {

class IpfixDecoder {
 public:
  IpfixDecoder(TemplateEngine& engine, DecodeStats& stats) : engine_(engine), stats_(stats) {}

  // REQUIRES: the version word is 10. Returns the records appended.
  std::size_t decode(std::span<const std::byte> datagram, const IpAddress& exporter,
                     FlowBatch& batch);

 private:
  void template_set(const ExportContext& ctx, std::span<const std::byte> body, bool options,
                    FlowBatch& batch);

  TemplateEngine& engine_;
  DecodeStats& stats_;
  SequenceTracker sequences_;
};

}  // namespace flowscope::decode
