#include "decode/template_engine.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "decode/field_map.h"
#include "decode/flow_decoder.h"
#include "decode/packet_builder.h"

namespace flowscope::decode {
namespace {

using testing::ipfix_header;
using testing::PacketBuilder;

const IpAddress kExporter = IpAddress::v4(0xC0000204);

TEST(FieldMap, ComesFromTheRegistry) {
  for (const FieldInfo& f : kFieldTable) {
    if (f.kind != FieldKind::Stored || !in_kind(f, RecordKind::Flow)) continue;
    for (std::uint16_t id : f.wire.view()) {
      auto mapped = field_for_wire_id(id);
      ASSERT_TRUE(mapped.has_value()) << f.name << " wire id " << id;
      EXPECT_EQ(*mapped, f.id) << "wire id " << id << " maps to two fields";
    }
  }
  EXPECT_FALSE(field_for_wire_id(999).has_value());
}

PacketBuilder template_packet() {
  PacketBuilder b = ipfix_header(1'700'000'000, 0, 5);
  b.set_begin(2).u16(600).u16(3).u16(8).u16(4).u16(12).u16(4).u16(0x8000 | 7).u16(2).u32(9);
  b.set_end();
  b.set_begin(3).u16(601).u16(2).u16(1).u16(149).u16(4).u16(305).u16(4).set_end();
  return b.finish_ipfix();
}

PacketBuilder data_packet() {
  PacketBuilder b = ipfix_header(1'700'000'001, 0, 5);
  b.set_begin(600).ip4(1, 1, 1, 1).ip4(2, 2, 2, 2).u16(77).set_end();
  return b.finish_ipfix();
}

class TemplateCacheFile : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            ("flowscope_tpl_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
             "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
  }
  void TearDown() override { std::filesystem::remove(path_); }
  std::filesystem::path path_;
};

TEST_F(TemplateCacheFile, RoundTripKeepsTemplatesUsable) {
  std::size_t saved_count = 0;
  {
    FlowDecoder decoder;
    FlowBatch batch;
    (void)decoder.decode({template_packet().bytes(), kExporter, {}}, batch);
    saved_count = decoder.templates().template_count();
    ASSERT_EQ(saved_count, 2u);
    ASSERT_TRUE(decoder.templates().save(path_).has_value());
  }
  FlowDecoder restarted;
  auto loaded = restarted.templates().load(path_);
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
  EXPECT_EQ(*loaded, saved_count);
  const CompiledTemplate* tpl = restarted.templates().find({kExporter, 5, 10}, 600);
  ASSERT_NE(tpl, nullptr);
  EXPECT_EQ(tpl->spec.fields.size(), 3u);
  EXPECT_EQ(tpl->spec.fields[2].enterprise, 9u);
  const CompiledTemplate* options = restarted.templates().find({kExporter, 5, 10}, 601);
  ASSERT_NE(options, nullptr);
  EXPECT_TRUE(options->spec.options);
  EXPECT_EQ(options->spec.scope_count, 1u);

  FlowBatch batch;
  EXPECT_EQ(restarted.decode({data_packet().bytes(), kExporter, {}}, batch), 1u);
  EXPECT_EQ(batch.get<FieldId::DstAddr>(0), IpAddress::v4(0x02020202));
}

TEST_F(TemplateCacheFile, CorruptionIsReportedNotTrusted) {
  {
    FlowDecoder decoder;
    FlowBatch batch;
    (void)decoder.decode({template_packet().bytes(), kExporter, {}}, batch);
    ASSERT_TRUE(decoder.templates().save(path_).has_value());
  }
  std::string bytes;
  {
    std::ifstream in(path_, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  bytes[bytes.size() / 2] ^= 0x01;
  std::ofstream(path_, std::ios::binary) << bytes;
  FlowDecoder decoder;
  auto loaded = decoder.templates().load(path_);
  ASSERT_FALSE(loaded.has_value());
  EXPECT_EQ(loaded.error().code, ErrorCode::Corruption);
  EXPECT_EQ(decoder.templates().template_count(), 0u);

  std::ofstream(path_, std::ios::binary) << "not a cache";
  EXPECT_FALSE(decoder.templates().load(path_).has_value());
  EXPECT_FALSE(decoder.templates().load(path_.string() + ".missing").has_value());
}

TEST(TemplateEngine, CacheIsBounded) {
  DecoderConfig config;
  config.engine.limits.max_templates = 1;
  FlowDecoder decoder(config);
  FlowBatch batch;
  (void)decoder.decode({template_packet().bytes(), kExporter, {}}, batch);
  EXPECT_EQ(decoder.templates().template_count(), 1u);
  EXPECT_EQ(decoder.stats().total().error(DecodeError::TemplateLimit), 1u);
}

TEST(TemplateEngine, CountersOfSeveralElementsPreferTheRegistryOrder) {
  // octetTotalCount (85) before octetDeltaCount (1) in the template: the delta still wins,
  // even when it is 0. sourceIPv4Address 0 does not erase sourceIPv6Address.
  FlowDecoder decoder;
  FlowBatch batch;
  PacketBuilder b = ipfix_header(1, 0, 1);
  b.set_begin(2).u16(700).u16(4).u16(85).u16(8).u16(1).u16(8).u16(27).u16(16).u16(8).u16(4);
  b.set_end();
  b.set_begin(700).u64(9999).u64(0);
  b.raw({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7}).u32(0).set_end();
  b.finish_ipfix();
  ASSERT_EQ(decoder.decode({b.bytes(), kExporter, {}}, batch), 1u);
  EXPECT_EQ(batch.get<FieldId::FlowBytes>(0), 0u);
  EXPECT_EQ(batch.get<FieldId::SrcAddr>(0).to_string(), "2001:db8::7");
}

}  // namespace
}  // namespace flowscope::decode
