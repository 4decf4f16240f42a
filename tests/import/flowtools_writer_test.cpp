// The flow-tools writer against files flow-tools wrote (corpus/flowtools): the records of each
// file written with the same header give the same bytes, and what we write reads back.
#include "import/flowtools_writer.h"

#include <filesystem>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "import/flowtools_reader.h"
#include "test_support.h"

namespace flowscope::import {
namespace {

std::filesystem::path flowtools_dir() { return flowscope::testing::corpus_root() / "flowtools"; }

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// flow-tools does not record its zlib level; the zlib header's FLEVEL bits tell the ones the
// corpus used (flow-capture's default 6, flow-gen -z6, -z9).
int zlib_level(const std::string& file, std::size_t data_offset) {
  if (file.size() < data_offset + 2) return 0;
  const auto flg = static_cast<unsigned char>(file[data_offset + 1]);
  switch (flg >> 6) {
    case 3: return 9;
    case 2: return 6;
    case 1: return 2;
    default: return 1;
  }
}

// Where the TLVs end: after it, up to the header length, flow-tools pads to a multiple of 4
// with bytes it never initialises (nf5_cap_be*.ft carry garbage there), so they are not
// compared.
std::size_t tlv_end(const std::string& file, std::size_t header_size, bool big) {
  auto u16 = [&](std::size_t at) {
    const auto a = static_cast<unsigned char>(file[at]),
               b = static_cast<unsigned char>(file[at + 1]);
    return big ? (a << 8 | b) : (b << 8 | a);
  };
  std::size_t pos = 8;
  while (pos + 4 <= header_size && (u16(pos) != 0 || u16(pos + 2) != 0)) pos += 4 + u16(pos + 2);
  return pos;
}

class FlowtoolsWriterCorpus : public ::testing::TestWithParam<std::string> {};

TEST_P(FlowtoolsWriterCorpus, SameHeaderAndRecordsGiveFlowToolsBytes) {
  const auto path = flowtools_dir() / GetParam();
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "corpus not found at " << path;
  std::string original = slurp(path);
  auto reader = FlowtoolsReader::open_records(path);
  ASSERT_TRUE(reader.has_value()) << reader.error().message;
  const FlowtoolsHeader header = reader->header();
  const std::size_t data_offset = encode_ft_header(header).size();
  const std::size_t pad = tlv_end(original, data_offset, header.big_endian);
  ASSERT_LE(data_offset - pad, 3u);
  original.replace(pad, data_offset - pad, data_offset - pad, '\0');
  ASSERT_EQ(original.substr(0, data_offset), encode_ft_header(header)) << "header bytes differ";

  const auto out = std::filesystem::path(::testing::TempDir()) / ("w_" + GetParam());
  FlowtoolsWriteOptions options;
  options.z_level = header.compressed() ? zlib_level(original, data_offset) : 0;
  options.update_flow_count = false;  // an in-progress capture says 0 with records inside
  auto writer = FlowtoolsWriter::create(out, header, options);
  ASSERT_TRUE(writer.has_value()) << writer.error().message;
  FtRecord r;
  std::uint64_t n = 0;
  while (reader->next(r)) {
    ASSERT_TRUE(writer->write(r).has_value());
    ++n;
  }
  ASSERT_TRUE(writer->close().has_value());
  const std::string written = slurp(out);
  EXPECT_EQ(written.size(), original.size());
  EXPECT_TRUE(written == original)
      << "first difference at byte "
      << std::distance(
             written.begin(),
             std::mismatch(written.begin(), written.end(), original.begin(), original.end()).first);

  auto back = FlowtoolsReader::open_records(out);
  ASSERT_TRUE(back.has_value()) << back.error().message;
  auto again = FlowtoolsReader::open_records(path);
  FtRecord a, b;
  std::uint64_t m = 0;
  while (back->next(a)) {
    ASSERT_TRUE(again->next(b));
    ASSERT_EQ(a.values, b.values) << "record " << m;
    ++m;
  }
  EXPECT_EQ(m, n);
  std::filesystem::remove(out);
}

// Every corpus file but the in-progress capture, whose last record is cut (2560 whole ones
// are compared by the reader tests).
INSTANTIATE_TEST_SUITE_P(
    Files, FlowtoolsWriterCorpus,
    ::testing::Values("cat_nf5_cap+be_z0.ft", "cat_preload_z6.ft", "cat_stdout_z6.ft",
                      "gen_v1005_n200_z6.ft", "gen_v1_n200_z0.ft", "gen_v5_n200_be_z0.ft",
                      "gen_v5_n3000_z0.ft", "gen_v5_n3000_z9.ft", "gen_v5_send_cap.ft",
                      "gen_v5_send_cap_z0.ft", "gen_v7_n200_z6.ft", "gen_v8.1_n200_z6.ft",
                      "gen_v8.1_send_cap.ft", "import_v5_from_csv_z6.ft", "nf1_send_cap.ft",
                      "nf5_cap.ft", "nf5_cap_V1.ft", "nf5_cap_V6.ft", "nf5_cap_V7.ft",
                      "nf5_cap_be.ft", "nf5_cap_be_z0.ft", "nf5_cap_tag1005.ft", "nf5_cap_z0.ft",
                      "nf7_send_cap.ft"),
    [](const auto& param_info) {
      std::string n = param_info.param;
      for (char& c : n) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return n;
    });

TEST(FlowtoolsWriter, FlowCountIsRewrittenAtClose) {
  const auto out = std::filesystem::path(::testing::TempDir()) / "count.ft";
  FlowtoolsHeader h;
  h.version = 7;
  h.big_endian = true;
  h.flow_count = 0;
  auto w = FlowtoolsWriter::create(out, h, {9, true});
  ASSERT_TRUE(w.has_value());
  FtRecord r;
  for (std::uint32_t i = 0; i < 1000; ++i) {
    r.set(FtField::Srcaddr, 0x0a000000 + i);
    r.set(FtField::RouterSc, i);
    ASSERT_TRUE(w->write(r).has_value());
  }
  ASSERT_TRUE(w->close().has_value());
  auto back = FlowtoolsReader::open_records(out);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->header().flow_count, 1000u);
  EXPECT_TRUE(back->header().compressed());
  EXPECT_TRUE(back->header().big_endian);
  std::uint32_t i = 0;
  while (back->next(r)) {
    EXPECT_EQ(r.get(FtField::Srcaddr), 0x0a000000 + i);
    EXPECT_EQ(r.get(FtField::RouterSc), i);
    ++i;
  }
  EXPECT_EQ(i, 1000u);
}

TEST(FlowtoolsWriter, BadSettingsAreRefused) {
  const auto out = std::filesystem::path(::testing::TempDir()) / "bad.ft";
  FlowtoolsHeader h;
  h.version = 9;
  auto w = FlowtoolsWriter::create(out, h);
  ASSERT_FALSE(w.has_value());
  EXPECT_NE(w.error().message.find("export version 9"), std::string::npos);
  h.version = 5;
  auto z = FlowtoolsWriter::create(out, h, {10, true});
  ASSERT_FALSE(z.has_value());
  EXPECT_NE(z.error().message.find("zlib level 10"), std::string::npos);
  auto d = FlowtoolsWriter::create("/nonexistent-dir/x.ft", h);
  ASSERT_FALSE(d.has_value());
  EXPECT_NE(d.error().message.find("/nonexistent-dir/x.ft"), std::string::npos);
}

}  // namespace
}  // namespace flowscope::import
