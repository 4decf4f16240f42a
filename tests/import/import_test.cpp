#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>

#include "core/csv.h"
#include "session/one_sided.h"

#include "import/csv_import.h"
#include "import/flowtools_reader.h"

namespace flowscope::import {
namespace {

std::filesystem::path flowtools_dir() {
  if (const char* env = std::getenv("FLOWSCOPE_CORPUS"); env != nullptr && *env != '\0') {
    return std::filesystem::path(env) / "flowtools";
  }
  return std::filesystem::path(FLOWSCOPE_SOURCE_DIR) / "tests" / "data" / "corpus" / "flowtools";
}

TEST(CsvImport, SessionNamesWithAllValueFormsAndSkippedLines) {
  std::istringstream in(
      "cln_addr,srv_addr,srv_port,proto,start_time,cln_bytes,tcp_flags,cln_country,application\n"
      "10.0.0.1,2001:db8::1,443,tcp,2026-11-24T05:00:00.250Z,1500,...A..S.,BE,\"a,\"\"b\"\"\"\n"
      "10.0.0.2,192.0.2.9,53,17,1764000000000,,0,,dns\n"
      "10.0.0.3,192.0.2.9,99999,udp,1764000000000,1,0,,x\n"  // port out of range
      "10.0.0.4,192.0.2.9,53\n"                              // too few values
      "10.0.0.5,not-an-ip,53,udp,1764000000000,1,0,,x\n");
  auto imp = CsvImporter::open(in, "s.csv");
  ASSERT_TRUE(imp.has_value()) << imp.error().message;
  SessionBatch out;
  while (imp->read(out, 2)) {
  }
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out.get<FieldId::SrvAddr>(0).to_string(), "2001:db8::1");
  EXPECT_EQ(out.get<FieldId::Proto>(0), 6);
  EXPECT_EQ(out.get<FieldId::StartTime>(0), 1'795'496'400'250);  // 2026-11-24T05:00:00.250Z
  EXPECT_EQ(out.get<FieldId::TcpFlags>(0), 0x12);
  EXPECT_EQ(out.get<FieldId::ClnCountry>(0).view(), "BE");
  EXPECT_EQ(out.get<FieldId::Application>(0), "a,\"b\"");
  EXPECT_FALSE(out.is_set(FieldId::ClnBytes, 1));  // empty cell: absent
  const ImportStats& s = imp->stats();
  EXPECT_EQ(s.records, 2u);
  EXPECT_EQ(s.skipped, 3u);
  EXPECT_EQ(s.skipped_by_reason.at("bad_value"), 2u);
  EXPECT_EQ(s.skipped_by_reason.at("wrong_column_count"), 1u);
  ASSERT_FALSE(s.examples.empty());
  EXPECT_EQ(s.examples[0], "s.csv:4: \"99999\" is not a valid srv_port (u16)");
}

TEST(CsvImport, FlowNamesBecomeOneSidedSessions) {
  std::istringstream in(
      "src_addr,dst_addr,dst_port,bytes,first,tcp_flags\n"
      "10.0.0.1,192.0.2.1,80,900,1764000000000,2\n");
  auto imp = CsvImporter::open(in, "f.csv");
  ASSERT_TRUE(imp.has_value()) << imp.error().message;
  SessionBatch out;
  imp->read(out, 10);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out.get<FieldId::ClnAddr>(0).to_string(), "10.0.0.1");
  EXPECT_EQ(out.get<FieldId::SrvPort>(0), 80);
  EXPECT_EQ(out.get<FieldId::ClnBytes>(0), 900u);
  EXPECT_EQ(out.get<FieldId::StartTime>(0), 1'764'000'000'000);
  EXPECT_EQ(out.get<FieldId::ClnTcpFlags>(0), 2);
  EXPECT_EQ(out.get<FieldId::Sides>(0), 1);
  EXPECT_FALSE(out.is_set(FieldId::SrvBytes, 0));
}

TEST(CsvImport, UnknownHeaderNameIsAUsageErrorWithTheColumn) {
  std::istringstream in("cln_addr,srcaddr\n");
  auto imp = CsvImporter::open(in, "bad.csv");
  ASSERT_FALSE(imp.has_value());
  EXPECT_NE(imp.error().message.find("bad.csv:1: column 2 \"srcaddr\""), std::string::npos)
      << imp.error().message;
}

TEST(OneSided, EveryFlowFieldMapsToASessionFieldOfTheSameTypeOrNone) {
  for (FieldId id : fields_of(RecordKind::Flow, /*stored_only=*/true)) {
    auto target = session::one_sided_session_field(id);
    if (!target) continue;
    EXPECT_EQ(field_info(*target).type, field_info(id).type) << field_info(id).name;
    EXPECT_GE(SessionBatch::column_index(*target), 0) << field_info(id).name;
  }
}

// The flow-export -f2 truth: a header "#:name,name,..." then one line per record.
std::vector<std::map<std::string, std::string>> read_truth(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::string line;
  std::vector<std::string> names;
  std::vector<std::map<std::string, std::string>> rows;
  std::vector<std::string> cells;
  while (std::getline(in, line)) {
    if (line.starts_with("#:")) {
      split_csv_line(line.substr(2), names);
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    split_csv_line(line, cells);
    std::map<std::string, std::string> row;
    for (std::size_t i = 0; i < names.size() && i < cells.size(); ++i) row[names[i]] = cells[i];
    rows.push_back(std::move(row));
  }
  return rows;
}

class FlowtoolsCorpus : public ::testing::TestWithParam<std::string> {};

TEST_P(FlowtoolsCorpus, RecordsMatchFlowExport) {
  const auto path = flowtools_dir() / GetParam();
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "corpus not found at " << path;
  auto reader = FlowtoolsReader::open(path);
  ASSERT_TRUE(reader.has_value()) << reader.error().message;
  SessionBatch out;
  while (reader->read(out, 1000)) {
  }
  auto truth = read_truth(path.string() + ".flow-export.csv");
  ASSERT_EQ(out.size(), truth.size());
  for (std::size_t i = 0; i < truth.size(); ++i) {
    auto& t = truth[i];
    SCOPED_TRACE("record " + std::to_string(i));
    ASSERT_EQ(out.get<FieldId::ClnAddr>(i).to_string(), t["srcaddr"]);
    ASSERT_EQ(out.get<FieldId::SrvAddr>(i).to_string(), t["dstaddr"]);
    ASSERT_EQ(out.get<FieldId::NextHop>(i).to_string(), t["nexthop"]);
    ASSERT_EQ(out.get<FieldId::Exporter>(i).to_string(), t["exaddr"]);
    ASSERT_EQ(std::to_string(out.get<FieldId::ClnPackets>(i)), t["dpkts"]);
    ASSERT_EQ(std::to_string(out.get<FieldId::ClnBytes>(i)), t["doctets"]);
    ASSERT_EQ(std::to_string(out.get<FieldId::ClnPort>(i)), t["srcport"]);
    ASSERT_EQ(std::to_string(out.get<FieldId::SrvPort>(i)), t["dstport"]);
    ASSERT_EQ(std::to_string(out.get<FieldId::Proto>(i)), t["prot"]);
    ASSERT_EQ(std::to_string(out.get<FieldId::Tos>(i)), t["tos"]);
    ASSERT_EQ(std::to_string(out.get<FieldId::ClnTcpFlags>(i)), t["tcp_flags"]);
    ASSERT_EQ(std::to_string(out.get<FieldId::InIf>(i)), t["input"]);
    ASSERT_EQ(std::to_string(out.get<FieldId::OutIf>(i)), t["output"]);
    if (t.contains("src_as")) {
      ASSERT_EQ(std::to_string(out.get<FieldId::ClnAs>(i)), t["src_as"]);
      ASSERT_EQ(std::to_string(out.get<FieldId::SrvAs>(i)), t["dst_as"]);
    }
    const std::int64_t now =
        std::stoll(t["unix_secs"]) * 1000 + std::stoll(t["unix_nsecs"]) / 1'000'000;
    const auto uptime = static_cast<std::uint32_t>(std::stoull(t["sysuptime"]));
    const auto first = static_cast<std::uint32_t>(std::stoull(t["first"]));
    ASSERT_EQ(out.get<FieldId::StartTime>(i), now - static_cast<std::uint32_t>(uptime - first));
  }
}

INSTANTIATE_TEST_SUITE_P(Files, FlowtoolsCorpus,
                         ::testing::Values("gen_v5_n200_be_z0.ft", "gen_v5_n3000_z9.ft",
                                           "gen_v1_n200_z0.ft", "gen_v7_n200_z6.ft", "nf5_cap.ft",
                                           "cat_nf5_cap+be_z0.ft",
                                           "gen_v5_send_cap_z0_inprogress.ft"),
                         [](const auto& param_info) {
                           std::string n = param_info.param;
                           for (char& c : n) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return n;
                         });

TEST(Flowtools, UnsupportedVersionIsNamed) {
  const auto path = flowtools_dir() / "gen_v8.1_n200_z6.ft";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "corpus not found at " << path;
  auto reader = FlowtoolsReader::open(path);
  ASSERT_FALSE(reader.has_value());
  EXPECT_EQ(reader.error().code, ErrorCode::Unsupported);
  EXPECT_NE(reader.error().message.find("gen_v8.1_n200_z6.ft"), std::string::npos);
}

}  // namespace
}  // namespace flowscope::import
