#pragma once
// FlowDecoder: the entry point of src/decode. Takes one UDP datagram as received from an
// exporter, dispatches on its version word to NetFlow v1/v5/v7, v9 or IPFIX (and sFlow, whose
// decoder plugs in through DatagramDecoder), and appends one-way flow records to a FlowBatch.
//
// Bad input never throws: every problem is a named counter in stats() (docs/decode.md) and the
// decoder stays usable. A FlowDecoder owns all protocol state (templates, sequences, buffered
// sets); it is not thread-safe: use one per receiving thread (docs/conventions.md "Threads").

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>

#include "core/ip_address.h"
#include "core/record_batch.h"
#include "core/result.h"
#include "core/time.h"
#include "decode/decode_stats.h"
#include "decode/ipfix.h"
#include "decode/netflow_v5.h"
#include "decode/netflow_v9.h"
#include "decode/template_engine.h"

namespace flowscope::decode {

// One received datagram. The payload is borrowed for the duration of the call.
struct Datagram {
  std::span<const std::byte> payload;
  IpAddress exporter;
  TimeMs received{};
};

// A decoder for a protocol that FlowDecoder does not implement itself. sFlow (decode/sflow.h)
// implements this: sFlow datagrams start with a 32-bit version (2, 4, 5), so their first 16 bits
// are zero, which no NetFlow/IPFIX version word is.
class DatagramDecoder {
 public:
  virtual ~DatagramDecoder() = default;
  // Appends records to `batch`, counts problems in `stats`; returns records appended.
  virtual std::size_t decode(const Datagram& datagram, DecodeStats& stats, FlowBatch& batch) = 0;
};

struct DecoderConfig {
  EngineOptions engine;
};

class FlowDecoder {
 public:
  explicit FlowDecoder(DecoderConfig config = {});
  FlowDecoder(const FlowDecoder&) = delete;
  FlowDecoder& operator=(const FlowDecoder&) = delete;

  // Decodes one datagram; returns how many records it appended to `batch` (buffered sets that
  // a template in this datagram released included).
  std::size_t decode(const Datagram& datagram, FlowBatch& batch);

  // Replaces the sFlow decoder (datagrams whose first 16 bits are zero); SflowDecoder is the
  // default.
  void set_sflow_decoder(std::unique_ptr<DatagramDecoder> decoder) { sflow_ = std::move(decoder); }

  // End of input: data sets still waiting for a template are dropped and counted.
  void finish() { engine_.drop_pending(); }

  const DecodeStats& stats() const { return stats_; }
  TemplateEngine& templates() { return engine_; }
  const TemplateEngine& templates() const { return engine_; }

 private:
  DecodeStats stats_;
  TemplateEngine engine_;
  NetflowV5Decoder v5_;
  NetflowV9Decoder v9_;
  IpfixDecoder ipfix_;
  std::unique_ptr<DatagramDecoder> sflow_;
};

}  // namespace flowscope::decode
