// Interface names from options data: NetFlow v9 (scope Interface, or scope System with
// INPUT_SNMP as a field, as Cisco's ASR 9000 sends) and IPFIX (scope ingressInterface with a
// variable-length interfaceName).
#include <gtest/gtest.h>

#include "decode/corpus_support.h"
#include "decode/flow_decoder.h"
#include "decode/packet_builder.h"

namespace flowscope::decode {
namespace {

using testing::ipfix_header;
using testing::PacketBuilder;
using testing::v9_header;

const IpAddress kExporter = IpAddress::v4(0xC0000207);

TEST(InterfaceNames, V9ScopeInterfaceWithNameAndDescription) {
  FlowDecoder decoder;
  FlowBatch batch;
  PacketBuilder b = v9_header(60'000, 1'700'000'000, 1, 3);
  // Options template 301: scope Interface (type 2, 4 bytes); IF_NAME (82, 8), IF_DESC (83, 12).
  b.set_begin(1).u16(301).u16(4).u16(8).u16(2).u16(4).u16(82).u16(8).u16(83).u16(12).set_end();
  b.set_begin(301)
      .u32(5)
      .raw({'G', 'i', '0', '/', '1', 0, 0, 0})
      .raw({'t', 'o', ' ', 'c', 'o', 'r', 'e', 0, 0, 0, 0, 0})
      .u32(0)  // a record for ifIndex 0 ("no interface") is dropped below
      .raw({'N', 'u', 'l', 'l', '0', 0, 0, 0})
      .zeros(12)
      .set_end();
  ASSERT_EQ(decoder.decode({b.bytes(), kExporter, {}}, batch), 0u);
  auto names = decoder.templates().take_interface_names();
  ASSERT_EQ(names.size(), 2u);
  EXPECT_EQ(names[0].exporter, kExporter);
  EXPECT_EQ(names[0].domain, 3u);
  EXPECT_EQ(names[0].if_index, 5u);
  EXPECT_EQ(names[0].name, "Gi0/1");  // NUL padding cut
  EXPECT_EQ(names[0].description, "to core");
  EXPECT_EQ(names[1].if_index, 0u);  // the table, not the decoder, knows 0 means none
  EXPECT_TRUE(decoder.templates().take_interface_names().empty());  // taken once
}

TEST(InterfaceNames, IpfixScopeIngressInterfaceWithVariableLengthName) {
  FlowDecoder decoder;
  FlowBatch batch;
  PacketBuilder b = ipfix_header(1'700'000'000, 0, 9);
  // Options template 700 (RFC 7011 §3.4.2.2): 2 fields, 1 scope: ingressInterface (10, 4),
  // interfaceName (82, variable).
  b.set_begin(3).u16(700).u16(2).u16(1).u16(10).u16(4).u16(82).u16(0xFFFF).set_end();
  b.set_begin(700).u32(17).u8(8).raw({'x', 'e', '-', '0', '/', '0', '/', '1'}).set_end();
  b.finish_ipfix();
  (void)decoder.decode({b.bytes(), kExporter, {}}, batch);
  auto names = decoder.templates().take_interface_names();
  ASSERT_EQ(names.size(), 1u);
  EXPECT_EQ(names[0].if_index, 17u);
  EXPECT_EQ(names[0].name, "xe-0/0/1");
  EXPECT_EQ(names[0].domain, 9u);
}

TEST(InterfaceNames, BoundedUntilTaken) {
  DecoderConfig config;
  config.engine.limits.max_interface_names = 1;
  FlowDecoder decoder(config);
  FlowBatch batch;
  PacketBuilder b = v9_header(60'000, 1'700'000'000, 1, 3);
  b.set_begin(1).u16(301).u16(4).u16(4).u16(2).u16(4).u16(82).u16(4).set_end();
  b.set_begin(301).u32(1).raw({'a', 0, 0, 0}).u32(2).raw({'b', 0, 0, 0}).set_end();
  (void)decoder.decode({b.bytes(), kExporter, {}}, batch);
  EXPECT_EQ(decoder.templates().take_interface_names().size(), 1u);
  EXPECT_EQ(decoder.templates().interface_names_dropped(), 1u);
}

TEST(InterfaceNames, CiscoAsr9kCorpusNamesItsInterfaces) {
  const auto path = testing::corpus_dir() / "netflow" / "ls_netflow9_cisco_asr9k.pcap";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "corpus capture not found: " << path;
  FlowDecoder decoder;
  FlowBatch batch;
  std::vector<InterfaceName> names;
  for (const auto& payload : testing::udp_payloads(path)) {
    (void)decoder.decode({payload, kExporter, {}}, batch);
    for (auto& n : decoder.templates().take_interface_names()) names.push_back(std::move(n));
  }
  // tshark shows INPUT_SNMP 74 as IfDescr "TenGigE0_0_1_0", 75 as "TenGigE0_0_1_1".
  ASSERT_GE(names.size(), 19u);
  auto find = [&](std::uint32_t index) -> std::string {
    for (const auto& n : names) {
      if (n.if_index == index) return n.description;
    }
    return "";
  };
  EXPECT_EQ(find(74), "TenGigE0_0_1_0");
  EXPECT_EQ(find(75), "TenGigE0_0_1_1");
}

}  // namespace
}  // namespace flowscope::decode
