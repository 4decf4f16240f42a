// NetFlow v8 aggregations 8.1-8.14 (import/netflow_pdu.h) and their flow-tools file layouts
// (import/flowtools_format.h): a PDU encodes and decodes back; a file written with each layout
// has flow-tools' record size and field offsets and reads back
// through FlowtoolsReader; `flowscope import` still refuses aggregates. Python's FlowPDU is
// checked against tshark in python/tests/test_flowtools_pdu_v8_v9.py.
#include "import/netflow_pdu.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

#include "import/flowtools_reader.h"
#include "import/flowtools_writer.h"

namespace flowscope::import {
namespace {

// Distinct values for every field a layout has, fitted to the field's width.
FtRecord sample_record(const FtLayout& layout, std::uint32_t seed) {
  FtRecord r;
  for (const FtSlot& s : layout.slots) {
    const auto width = ft_field_info(s.field).width;
    const std::uint32_t v = 0x9E3779B1u * (seed + static_cast<std::uint32_t>(s.field) + 1);
    r.set(s.field, width == 4 ? v : v & ((1u << (8 * width)) - 1));
  }
  return r;
}

TEST(NetflowV8Pdu, EveryAggregationRoundTrips) {
  for (std::uint8_t agg = 1; agg <= 14; ++agg) {
    SCOPED_TRACE(static_cast<int>(agg));
    auto layout = find_ft_layout(8, agg);
    ASSERT_TRUE(layout) << layout.error().message;
    NetflowPdu pdu;
    pdu.version = 8;
    pdu.agg_method = agg;
    pdu.agg_version = 2;
    pdu.sys_uptime = 500000;
    pdu.unix_secs = 1700000000;
    pdu.flow_sequence = 77;
    pdu.engine_type = 1;
    pdu.engine_id = 9;
    for (std::uint32_t i = 0; i < 3; ++i) {
      FtRecord r = sample_record(**layout, i);
      // The header's values, as decoding fills them.
      r.set(FtField::UnixSecs, pdu.unix_secs);
      r.set(FtField::UnixNsecs, 0);
      r.set(FtField::SysUpTime, pdu.sys_uptime);
      r.set(FtField::Exaddr, 0x0A000001);
      r.set(FtField::EngineType, pdu.engine_type);
      r.set(FtField::EngineId, pdu.engine_id);
      pdu.records.push_back(r);
    }
    auto bytes = encode_netflow_pdu(pdu);
    ASSERT_TRUE(bytes) << bytes.error().message;
    auto back = decode_netflow_pdu(0x0A000001, *bytes);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->layout, *layout);
    EXPECT_EQ(back->agg_method, agg);
    ASSERT_EQ(back->records.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(back->records[i].values, pdu.records[i].values) << "record " << i;
    }
    // A byte less, or a count one higher, is refused.
    EXPECT_FALSE(decode_netflow_pdu(1, std::span(*bytes).first(bytes->size() - 1)));
    auto more = *bytes;
    more[3] = std::byte{4};
    EXPECT_FALSE(decode_netflow_pdu(1, more));
  }
  auto none = find_ft_layout(8, 15);
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("8.15"), std::string::npos);
}

// flow-tools' record sizes and a few offsets, as its v8 file records have them: 8.3,
// 8.11 and 8.12 store the exporter before sysUpTime.
struct FileShape {
  std::uint8_t agg;
  std::size_t size;
  std::uint8_t exaddr;
  std::uint8_t engine_id;
};
constexpr FileShape kFileShapes[] = {
    {1, 48, 12, 45}, {2, 48, 12, 45}, {3, 48, 8, 47},   {4, 48, 12, 43},  {5, 56, 12, 47},
    {6, 52, 12, 51}, {7, 56, 12, 55}, {8, 64, 12, 59},  {9, 48, 12, 45},  {10, 48, 12, 45},
    {11, 48, 8, 47}, {12, 48, 8, 47}, {13, 60, 12, 55}, {14, 60, 12, 55},
};

TEST(NetflowV8Pdu, FileLayoutsWriteAndReadBack) {
  const auto dir =
      std::filesystem::temp_directory_path() /
      ("flowscope_v8_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()));
  std::filesystem::create_directories(dir);
  for (const FileShape& shape : kFileShapes) {
    SCOPED_TRACE(static_cast<int>(shape.agg));
    auto layout = find_ft_layout(8, shape.agg);
    ASSERT_TRUE(layout);
    EXPECT_EQ((*layout)->record_size, shape.size);
    for (const FtSlot& s : (*layout)->slots) {
      if (s.field == FtField::Exaddr) {
        EXPECT_EQ(s.offset, shape.exaddr);
      }
      if (s.field == FtField::EngineId) {
        EXPECT_EQ(s.offset, shape.engine_id);
      }
      EXPECT_LE(s.offset + ft_field_info(s.field).width, shape.size);
    }
    FlowtoolsHeader h;
    h.version = 8;
    h.agg_method = shape.agg;
    h.agg_version = 2;
    h.flow_count = 0;
    const auto path = dir / ("v8_" + std::to_string(shape.agg) + ".ft");
    auto w = FlowtoolsWriter::create(path, h);
    ASSERT_TRUE(w) << w.error().message;
    const FtRecord a = sample_record(**layout, 1), b = sample_record(**layout, 2);
    ASSERT_TRUE(w->write(a));
    ASSERT_TRUE(w->write(b));
    ASSERT_TRUE(w->close());
    // The exporter address sits where flow-tools puts it (little-endian file).
    std::ifstream in(path, std::ios::binary);
    const std::string file{std::istreambuf_iterator<char>(in), {}};
    const std::size_t first = file.size() - 2 * shape.size;
    std::uint32_t ex = 0;
    for (int i = 3; i >= 0; --i) {
      ex = (ex << 8) | static_cast<unsigned char>(file[first + shape.exaddr + i]);
    }
    EXPECT_EQ(ex, a.get(FtField::Exaddr));
    auto reader = FlowtoolsReader::open_records(path);
    ASSERT_TRUE(reader) << reader.error().message;
    EXPECT_EQ(reader->layout().name(), "8." + std::to_string(shape.agg));
    FtRecord got;
    ASSERT_TRUE(reader->next(got));
    EXPECT_EQ(got.values, a.values);
    ASSERT_TRUE(reader->next(got));
    EXPECT_EQ(got.values, b.values);
    EXPECT_FALSE(reader->next(got));
    // Aggregates are not sessions: import refuses every v8 file, as before.
    auto as_sessions = FlowtoolsReader::open(path);
    ASSERT_FALSE(as_sessions);
    EXPECT_NE(as_sessions.error().message.find("aggregates"), std::string::npos);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace flowscope::import
