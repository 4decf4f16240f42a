#include "store/column_codec.h"

#include <gtest/gtest.h>

#include "store/batch_codec.h"

#include "store_test_support.h"

namespace flowscope::store {
namespace {

using testing::compare_rows;
using testing::fill_every_field;

// Rows: minimums, maximums, absent everything, then pseudo-random values.
SessionBatch edge_batch(std::size_t rows) {
  SessionBatch b;
  for (std::size_t row = 0; row < rows; ++row) {
    b.add_row();
    if (row == 2) continue;  // every column absent
    fill_every_field(b, row, row == 0 ? 0 : row == 1 ? 1 : row + 10, 1'764'000'000'000);
  }
  return b;
}

void expect_same(const SessionBatch& a, const SessionBatch& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t row = 0; row < a.size(); ++row) {
    ASSERT_EQ(compare_rows(a, row, b, row), "") << "row " << row;
  }
}

TEST(ColumnCodec, EveryRegistryFieldRoundTripsInEveryCodec) {
  const SessionBatch batch = edge_batch(300);
  for (Codec codec : {Codec::None, Codec::Lz4, Codec::Zstd}) {
    for (bool fast : {false, true}) {
      const std::string bytes = encode_batch(batch, ChunkOptions{codec, 3, fast});
      auto back = decode_batch(as_bytes(bytes));
      ASSERT_TRUE(back.has_value()) << back.error().message;
      expect_same(batch, *back);
    }
  }
}

TEST(ColumnCodec, PicksCompactEncodingsAndZoneMaps) {
  SessionBatch b;
  for (int i = 0; i < 1000; ++i) {
    const std::size_t r = b.add_row();
    b.set<FieldId::StartTime>(r, 1'764'000'000'000 + i * 10);               // steady: delta
    b.set<FieldId::ClnBytes>(r, 5000 + static_cast<std::uint64_t>(i % 7));  // narrow: FOR
    b.set<FieldId::Exporter>(r, IpAddress::v4(0x0A000001));                 // repeated: dictionary
    b.set<FieldId::Application>(r, i % 2 ? "dns" : "http");
  }
  const ChunkOptions opt{Codec::None, 0, false};
  auto time = encode_column(b.column(FieldId::StartTime), 0, b.size(), opt);
  EXPECT_EQ(time.encoding, Encoding::Delta);
  EXPECT_LT(time.bytes.size(), 700u);  // 1000 values of 8 bytes, delta-packed to 5 bits each
  ASSERT_TRUE(time.zone.present);
  EXPECT_EQ(time.zone.min, order_key(std::int64_t{1'764'000'000'000}));
  EXPECT_EQ(time.zone.max, order_key(std::int64_t{1'764'000'009'990}));
  EXPECT_EQ(encode_column(b.column(FieldId::ClnBytes), 0, b.size(), opt).encoding,
            Encoding::FrameOfReference);
  EXPECT_EQ(encode_column(b.column(FieldId::Exporter), 0, b.size(), opt).encoding,
            Encoding::Dictionary);
  auto app = encode_column(b.column(FieldId::Application), 0, b.size(), opt);
  EXPECT_EQ(app.encoding, Encoding::Dictionary);
  EXPECT_FALSE(app.zone.present);  // strings have no zone maps
  auto absent = encode_column(b.column(FieldId::SrvCity), 0, b.size(), opt);
  EXPECT_LT(absent.bytes.size(), 16u);  // an absent column costs a few bytes
}

TEST(ColumnCodec, DamagedChunkIsReportedNotMisread) {
  SessionBatch b = testing::make_sessions(1, 500, 0);
  auto chunk = encode_column(b.column(FieldId::ClnBytes), 0, b.size(), {Codec::Zstd, 1, false});
  std::string cut = chunk.bytes.substr(0, chunk.bytes.size() / 2);
  SessionBatch out;
  out.add_rows(b.size());
  auto r =
      decode_column(as_bytes(cut), b.size(), FieldType::U64, out.mutable_column(FieldId::ClnBytes));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::Corruption);
}

}  // namespace
}  // namespace flowscope::store
