#pragma once
// NetFlow v9 (RFC 3954): the export packet header, template and options-template flowsets.
// Data flowsets and everything about templates after parsing go to the shared TemplateEngine.
// One decoder per FlowDecoder, used from its thread only.
// Internal to flowscope_decode: other modules use its public headers.

#include <cstddef>
#include <span>

#include "core/record_batch.h"
#include "decode/decode_stats.h"
#include "decode/sequence_tracker.h"
#include "decode/template_engine.h"

namespace flowscope::decode {

class NetflowV9Decoder {
 public:
  NetflowV9Decoder(TemplateEngine& engine, DecodeStats& stats) : engine_(engine), stats_(stats) {}

  // REQUIRES: the version word is 9. Returns the records appended (including buffered data
  // sets that a template in this packet released).
  std::size_t decode(std::span<const std::byte> datagram, const IpAddress& exporter,
                     FlowBatch& batch);

 private:
  void template_flowset(const ExportContext& ctx, std::span<const std::byte> body,
                        FlowBatch& batch);
  void options_flowset(const ExportContext& ctx, std::span<const std::byte> body, FlowBatch& batch);

  TemplateEngine& engine_;
  DecodeStats& stats_;
  SequenceTracker sequences_;
};

}  // namespace flowscope::decode
