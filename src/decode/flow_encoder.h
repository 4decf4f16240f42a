#pragma once
// Flow encoders: the other direction of src/decode. They turn one-way flow records (FlowBatch)
// into export datagrams of NetFlow v5, NetFlow v9, IPFIX or sFlow v5 as one exporter would send
// them: per-exporter sequence numbers and uptime, templates (re-)sent on start and every N
// datagrams, each datagram within an MTU. `flowscope gen flows` drives them (docs/gen.md), and
// F3's exporter reuses them. Every encoder round-trips with FlowDecoder: what the format
// carries decodes to the values encoded (tests/decode/flow_encoder_test.cpp).
//
// An encoder is the state of one exporter; it is not thread-safe (one per exporter and thread).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "core/ip_address.h"
#include "core/record_batch.h"
#include "core/result.h"
#include "core/time.h"

namespace flowscope::decode {

enum class ExportFormat : std::uint8_t { NetflowV5, NetflowV9, Ipfix, Sflow };

// "v5", "v9", "ipfix", "sflow".
std::string_view format_name(ExportFormat f);
Result<ExportFormat> parse_export_format(std::string_view text);
// The port a format's collectors listen on: 2055 (NetFlow), 4739 (IPFIX), 6343 (sFlow).
std::uint16_t default_port(ExportFormat f);

struct ExporterConfig {
  // v5: engine type << 8 | engine id; v9: source id; IPFIX: observation domain; sFlow:
  // sub-agent id.
  std::uint32_t source_id = 0;
  // sFlow agent address (the other formats are identified by the datagram's source address).
  IpAddress agent = IpAddress::v4(0x7F000001);
  // Sampling interval, 1 in N packets; 0 = unsampled. v5: header (at most 16383); v9/IPFIX:
  // options data (RFC 3954 §6.2 SAMPLING_INTERVAL, RFC 7011 IE 305); sFlow: the sampling rate.
  std::uint32_t sampling = 0;
  // Largest UDP payload of a datagram.
  std::size_t mtu = 1400;
  // v9/IPFIX: templates and sampling options are re-sent every this many datagrams (and on
  // start); sFlow: counter samples are sent every this many datagrams.
  std::uint32_t refresh_every = 20;
};

// Datagrams packed back to back in one buffer, so that a batch of sends needs no allocation per
// datagram.
class DatagramBuffer {
 public:
  std::size_t size() const { return ends_.size(); }
  bool empty() const { return ends_.empty(); }
  std::span<const std::byte> at(std::size_t i) const {
    const std::size_t begin = i == 0 ? 0 : ends_[i - 1];
    return std::span(bytes_).subspan(begin, ends_[i] - begin);
  }
  void clear() {
    bytes_.clear();
    ends_.clear();
  }
  std::size_t total_bytes() const { return bytes_.size(); }

  // For encoders: append a datagram's bytes to buffer(), then call close_datagram().
  std::vector<std::byte>& buffer() { return bytes_; }
  // Offset where the datagram being written began.
  std::size_t open_offset() const { return ends_.empty() ? 0 : ends_.back(); }
  void close_datagram() { ends_.push_back(bytes_.size()); }

 private:
  std::vector<std::byte> bytes_;
  std::vector<std::size_t> ends_;
};

class FlowEncoder {
 public:
  virtual ~FlowEncoder() = default;

  // The exporter (re)starts at `now`: uptime 0, sequence numbers 0, templates and options sent
  // before the next data. Collectors see this as a restart (docs/decode.md).
  virtual void restart(TimeMs now) = 0;
  // Encodes rows [begin, end) of `batch` into datagrams exported at `now`, appended to `out`.
  // Returns the rows encoded; rows the format cannot carry (IPv6 in v5) are skipped and counted
  // in skipped(). REQUIRES: now is not before the last restart by more than 24 days.
  virtual std::size_t encode(const FlowBatch& batch, std::size_t begin, std::size_t end, TimeMs now,
                             DatagramBuffer& out) = 0;
  // How a caller fills datagrams: the next datagram has room for records costing
  // datagram_budget() bytes in total (what templates or counters due in it take is deducted);
  // a record costs record_cost(); `new_set` adds what starting a set of its family takes. A
  // record with cost 0 cannot be carried (IPv6 in v5).
  virtual std::size_t datagram_budget() const = 0;
  virtual std::size_t record_cost(bool ipv6, bool new_set) const = 0;
  // IPFIX only: the next datagram withdraws every template (RFC 7011 §8.1) and announces them
  // again. A no-op for the other formats.
  virtual void withdraw_templates() {}

  std::uint64_t skipped() const { return skipped_; }
  std::uint64_t datagrams() const { return datagrams_; }

 protected:
  std::uint64_t skipped_ = 0;
  std::uint64_t datagrams_ = 0;
};

// REQUIRES: config.mtu >= 256 (a template datagram must fit).
std::unique_ptr<FlowEncoder> make_encoder(ExportFormat format, const ExporterConfig& config,
                                          TimeMs boot);

}  // namespace flowscope::decode
