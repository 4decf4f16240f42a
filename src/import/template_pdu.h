#pragma once
// NetFlow v9 (RFC 3954) and IPFIX (RFC 7011) messages as Python's flowtools.FlowPDU reads them
// (docs/python.md "v9 and IPFIX"): the header's fields and one flow-tools record (layout "9" or
// "10", the fields of v5; import/flowtools_format.h) per flow record. The messages go through
// flowscope's own decoder (decode/flow_decoder.h); a PduTemplateCache keeps its templates from
// one PDU to the next, per exporter and source id / observation domain, as a collector does.
// A data set whose template the cache does not know is skipped and counted in
// `missing_templates` (never held back for a later PDU: a PDU's flows are its own).
// A cache belongs to one thread at a time (Python: the GIL).

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/result.h"
#include "decode/flow_decoder.h"

#include "import/netflow_pdu.h"

namespace flowscope::import {

class PduTemplateCache {
 public:
  PduTemplateCache();
  PduTemplateCache(const PduTemplateCache&) = delete;
  PduTemplateCache& operator=(const PduTemplateCache&) = delete;

  std::size_t template_count() const { return decoder_.templates().template_count(); }
  decode::FlowDecoder& decoder() { return decoder_; }

 private:
  decode::FlowDecoder decoder_;
};

// Decodes one v9 or IPFIX message from `exporter` (IPv4, host order) with `cache`. Errors: a
// version other than 9 and 10, a header cut short, an IPFIX message longer than the bytes, and
// damage the decoder finds (named by its counter, docs/decode.md "Counters"); templates announced
// before the damage stay in the cache, as they would in a collector.
Result<NetflowPdu> decode_template_pdu(PduTemplateCache& cache, std::uint32_t exporter,
                                       std::span<const std::byte> bytes);

}  // namespace flowscope::import
