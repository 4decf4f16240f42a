#include "decode/flow_decoder.h"

#include "core/byte_reader.h"
#include "decode/sflow.h"

namespace flowscope::decode {

FlowDecoder::FlowDecoder(DecoderConfig config)
    : engine_(stats_, config.engine),
      v5_(stats_),
      v9_(engine_, stats_),
      ipfix_(engine_, stats_),
      sflow_(std::make_unique<SflowDecoder>()) {}

std::size_t FlowDecoder::decode(const Datagram& datagram, FlowBatch& batch) {
  ByteReader r(datagram.payload);
  if (!r.has(4)) {
    ++stats_.of(datagram.exporter).packets;
    stats_.count(datagram.exporter, DecodeError::TruncatedHeader);
    return 0;
  }
  switch (r.peek_u16be(0)) {
    case 0:
      if (sflow_ != nullptr) return sflow_->decode(datagram, stats_, batch);
      break;
    case 1:
    case 5:
    case 7: return v5_.decode(datagram.payload, datagram.exporter, batch);
    case 9: return v9_.decode(datagram.payload, datagram.exporter, batch);
    case 10: return ipfix_.decode(datagram.payload, datagram.exporter, batch);
    default: break;
  }
  ++stats_.of(datagram.exporter).packets;
  stats_.count(datagram.exporter, DecodeError::UnsupportedVersion);
  return 0;
}

}  // namespace flowscope::decode
