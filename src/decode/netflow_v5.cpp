#include "decode/netflow_v5.h"

#include <algorithm>

#include "core/byte_reader.h"

namespace flowscope::decode {
namespace {

// Where the versions differ. Offsets are within a record; the first 36 bytes (addresses,
// interfaces, counters, first/last, ports) are laid out the same in all three.
struct Layout {
  std::uint8_t version;
  std::size_t header_size;
  std::size_t record_size;
  std::size_t max_count;  // nominal (Cisco's documentation); real exporters send more
  std::size_t tcp_flags_at;
  std::size_t proto_at;
  std::size_t tos_at;
  bool has_as_and_masks;  // src_as@40, dst_as@42, src_mask@44, dst_mask@45
  bool has_sequence;
  bool has_engine;  // v5: engine type/id and sampling interval at header offset 20
};

constexpr Layout kV1{1, 16, 48, 24, 40, 38, 39, false, false, false};
constexpr Layout kV5{5, 24, 48, 30, 37, 38, 39, true, true, true};
constexpr Layout kV7{7, 24, 52, 28, 37, 38, 39, true, true, false};

const Layout* layout_for(std::uint16_t version) {
  switch (version) {
    case 1: return &kV1;
    case 5: return &kV5;
    case 7: return &kV7;
    default: return nullptr;
  }
}

}  // namespace

std::size_t NetflowV5Decoder::decode(std::span<const std::byte> datagram, const IpAddress& exporter,
                                     FlowBatch& batch) {
  ExporterStats& st = stats_.of(exporter);
  ++st.packets;
  ByteReader r(datagram);
  const std::uint16_t version = r.u16be();
  const Layout* layout = layout_for(version);
  if (layout == nullptr) {
    stats_.count(exporter, DecodeError::UnsupportedVersion);
    return 0;
  }
  if (!r.has(layout->header_size - 2)) {
    stats_.count(exporter, DecodeError::TruncatedHeader);
    return 0;
  }
  const std::uint16_t count = r.u16be();
  const std::uint32_t sys_uptime = r.u32be();
  const std::uint32_t unix_secs = r.u32be();
  const std::uint32_t unix_nsecs = r.u32be();
  std::uint32_t sequence = 0;
  std::uint32_t domain = 0;
  std::uint32_t sampling = 0;
  if (layout->has_sequence) sequence = r.u32be();
  if (layout->has_engine) {
    const std::uint8_t engine_type = r.u8();
    const std::uint8_t engine_id = r.u8();
    domain = (std::uint32_t{engine_type} << 8) | engine_id;
    // Top two bits: sampling mode; low 14 bits: the interval.
    sampling = r.u16be() & 0x3FFF;
  }
  r = ByteReader(datagram.subspan(layout->header_size));
  // The header's count is a claim: exporters exceed the nominal maxima (softflowd sends 29 v1
  // records where Cisco's documentation says 24), and nfdump and tshark read them. Decode every
  // record the datagram holds; count a datagram whose count is 0 or runs past its end, and
  // drop only the records that are not there.
  const std::size_t fits = r.remaining() / layout->record_size;
  if (count == 0 || fits < count) stats_.count(exporter, DecodeError::BadRecordCount);
  const std::size_t records = std::min<std::size_t>(count, fits);
  if (records == 0) return 0;
  const DomainKey key{exporter, domain, layout->version};
  if (layout->version != 1) {
    sequences_.observe(key, sequence, count, sys_uptime, st);
  }

  const std::int64_t export_ms =
      std::int64_t{unix_secs} * 1000 + static_cast<std::int64_t>(unix_nsecs / 1'000'000);
  // First/Last are sysUpTime values; the record's age is measured modulo 2^32 (uptime wraps
  // after 49.7 days).
  auto absolute = [&](std::uint32_t uptime_ms) {
    return export_ms - static_cast<std::int32_t>(sys_uptime - uptime_ms);
  };
  for (std::size_t record_idx = 0; record_idx < records; ++record_idx) {
    ByteReader rec = r.take(layout->record_size);
    auto at = [&](std::size_t offset) { return static_cast<std::uint8_t>(rec.rest()[offset]); };
    const std::size_t row = batch.add_row();
    batch.set<FieldId::SrcAddr>(row, IpAddress::v4(rec.u32be()));
    batch.set<FieldId::DstAddr>(row, IpAddress::v4(rec.u32be()));
    batch.set<FieldId::NextHop>(row, IpAddress::v4(rec.u32be()));
    batch.set<FieldId::InIf>(row, rec.u16be());
    batch.set<FieldId::OutIf>(row, rec.u16be());
    batch.set<FieldId::FlowPackets>(row, rec.u32be());
    batch.set<FieldId::FlowBytes>(row, rec.u32be());
    batch.set<FieldId::First>(row, absolute(rec.u32be()));
    batch.set<FieldId::Last>(row, absolute(rec.u32be()));
    batch.set<FieldId::SrcPort>(row, rec.u16be());
    batch.set<FieldId::DstPort>(row, rec.u16be());
    // rec now stands at offset 36; the tail is read by offset from here.
    constexpr std::size_t kTail = 36;
    batch.set<FieldId::TcpFlags>(row, at(layout->tcp_flags_at - kTail));
    batch.set<FieldId::Proto>(row, at(layout->proto_at - kTail));
    batch.set<FieldId::Tos>(row, at(layout->tos_at - kTail));
    if (layout->has_as_and_masks) {
      batch.set<FieldId::SrcAs>(row, (std::uint32_t{at(4)} << 8) | at(5));
      batch.set<FieldId::DstAs>(row, (std::uint32_t{at(6)} << 8) | at(7));
      batch.set<FieldId::SrcMask>(row, at(8));
      batch.set<FieldId::DstMask>(row, at(9));
    }
    if (sampling != 0) batch.set<FieldId::Sampling>(row, sampling);
    batch.set<FieldId::Exporter>(row, exporter);
    batch.set<FieldId::Version>(row, layout->version);
    batch.set<FieldId::SourceId>(row, domain);
  }
  st.records += records;
  return records;
}

}  // namespace flowscope::decode
