#pragma once
// Crafting one-way flow records for the session and enrich tests.

#include <cstdint>
#include <string_view>

#include "core/record_batch.h"

namespace flowscope::testing {

struct FlowSpec {
  std::string_view src;
  std::uint16_t sport = 0;
  std::string_view dst;
  std::uint16_t dport = 0;
  std::uint8_t proto = 6;
  std::uint64_t packets = 1;
  std::uint64_t bytes = 100;
  std::int64_t first = 1'000'000;
  std::int64_t last = 1'000'000;
  std::uint8_t flags = 0;
  std::string_view exporter = "192.0.2.1";
  std::uint32_t sampling = 0;
  std::uint8_t version = 10;
  std::uint16_t src_vlan = 0;
  std::uint16_t dst_vlan = 0;
};

inline IpAddress ip(std::string_view text) { return *IpAddress::parse(text); }

inline void add_flow(FlowBatch& b, const FlowSpec& f) {
  const std::size_t row = b.add_row();
  b.set<FieldId::SrcAddr>(row, ip(f.src));
  b.set<FieldId::DstAddr>(row, ip(f.dst));
  b.set<FieldId::SrcPort>(row, f.sport);
  b.set<FieldId::DstPort>(row, f.dport);
  b.set<FieldId::Proto>(row, f.proto);
  b.set<FieldId::FlowPackets>(row, f.packets);
  b.set<FieldId::FlowBytes>(row, f.bytes);
  b.set<FieldId::First>(row, f.first);
  b.set<FieldId::Last>(row, f.last);
  b.set<FieldId::TcpFlags>(row, f.flags);
  b.set<FieldId::Exporter>(row, ip(f.exporter));
  b.set<FieldId::Version>(row, f.version);
  if (f.sampling != 0) b.set<FieldId::Sampling>(row, f.sampling);
  if (f.src_vlan != 0) b.set<FieldId::SrcVlan>(row, f.src_vlan);
  if (f.dst_vlan != 0) b.set<FieldId::DstVlan>(row, f.dst_vlan);
}

}  // namespace flowscope::testing
