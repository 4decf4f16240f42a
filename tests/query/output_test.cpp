// The one record writer (query/output.h) for both record kinds: flows as `decode` prints them,
// sessions as `query` does, CSV through core/csv.h's quoting, and the one field-list parser.
#include "query/output.h"

#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/csv.h"
#include "query/query_spec.h"

namespace flowscope::query {
namespace {

FlowBatch two_flows() {
  FlowBatch b;
  const std::size_t r0 = b.add_row();
  b.set<FieldId::SrcAddr>(r0, *IpAddress::parse("10.0.0.1"));
  b.set<FieldId::DstPort>(r0, 443);
  b.set<FieldId::FlowBytes>(r0, 18'000'000'000'000'000'000u);  // above 2^63: stays unsigned
  b.set<FieldId::Application>(r0, "web, \"tls\"\nv1.3");
  const std::size_t r1 = b.add_row();
  b.set<FieldId::SrcAddr>(r1, *IpAddress::parse("2001:db8::1"));
  b.set<FieldId::DstPort>(r1, 53);
  return b;
}

const std::vector<FieldId> kFlowFields = {FieldId::SrcAddr, FieldId::DstPort, FieldId::FlowBytes,
                                          FieldId::Application};

std::string write_flows(const OutputOptions& options) {
  std::ostringstream out;
  auto w = FlowRowWriter::create(out, kFlowFields, options);
  EXPECT_TRUE(w.has_value());
  if (!w) return "";
  (*w)->write(two_flows());
  (*w)->finish();
  return out.str();
}

TEST(RecordWriter, FlowsAsDecodePrintsThem) {
  OutputOptions table;
  table.table_upper_headers = false;
  table.table_absent = "-";
  const std::string text = write_flows(table);
  const std::string header = text.substr(0, text.find('\n'));
  std::string second = text.substr(0, text.size() - 1);  // the last line: the second flow
  second = second.substr(second.rfind('\n') + 1);
  // The second flow has no bytes and no application: "-" (its last cell, so it ends the line).
  EXPECT_EQ(second.back(), '-') << text;
  EXPECT_NE(second.find("   -  "), std::string::npos) << text;

  OutputOptions json;
  json.format = OutputFormat::JsonLines;
  std::istringstream jl(write_flows(json));
  std::string line;
  std::getline(jl, line);
  const auto obj = nlohmann::json::parse(line);
  EXPECT_EQ(obj["dst_port"], 443);
  EXPECT_TRUE(obj["bytes"].is_number_unsigned());
  EXPECT_EQ(obj["bytes"].get<std::uint64_t>(), 18'000'000'000'000'000'000u);
  EXPECT_EQ(obj["src_addr"], "10.0.0.1");
  std::getline(jl, line);
  EXPECT_FALSE(nlohmann::json::parse(line).contains("bytes"));  // absent values are left out
}

TEST(RecordWriter, CsvCellsRoundTripThroughTheOneQuoting) {
  OutputOptions csv;
  csv.format = OutputFormat::CsvHeader;
  std::istringstream in(write_flows(csv));
  std::string record;
  std::vector<std::string> cells;
  std::size_t lines = 0;
  ASSERT_TRUE(read_csv_record(in, record, lines));
  ASSERT_TRUE(split_csv_line(record, cells));
  EXPECT_EQ(cells, (std::vector<std::string>{"src_addr", "dst_port", "bytes", "application"}));
  ASSERT_TRUE(read_csv_record(in, record, lines));
  ASSERT_TRUE(split_csv_line(record, cells));
  ASSERT_EQ(cells.size(), 4u);
  EXPECT_EQ(cells[3], "web, \"tls\"\nv1.3");
  ASSERT_TRUE(read_csv_record(in, record, lines));
  ASSERT_TRUE(split_csv_line(record, cells));
  EXPECT_EQ(cells, (std::vector<std::string>{"2001:db8::1", "53", "", ""}));
}

TEST(RecordWriter, AFormatStringNamesFieldsOfItsRecordKind) {
  OutputOptions tpl;
  tpl.format = OutputFormat::Template;
  tpl.format_string = "%src_addr -> %{dst_port}";
  EXPECT_EQ(write_flows(tpl), "10.0.0.1 -> 443\n2001:db8::1 -> 53\n");
  std::ostringstream out;
  tpl.format_string = "%cln_addr";  // a session field
  auto w = FlowRowWriter::create(out, {}, tpl);
  ASSERT_FALSE(w.has_value());
  EXPECT_NE(w.error().message.find("flow"), std::string::npos) << w.error().message;
}

TEST(FieldList, OneParserForFlowsAndSessions) {
  auto flows = parse_field_list("src_addr, dst_port,,bytes", RecordKind::Flow);
  ASSERT_TRUE(flows.has_value()) << flows.error().message;
  EXPECT_EQ(*flows, (std::vector<FieldId>{FieldId::SrcAddr, FieldId::DstPort, FieldId::FlowBytes}));
  auto bad_flow = parse_field_list("src_addr,cln_addr", RecordKind::Flow);
  ASSERT_FALSE(bad_flow.has_value());
  EXPECT_NE(bad_flow.error().message.find("flowscope fields --kind flow"), std::string::npos);

  auto sessions = parse_field_list("cln_addr,SRVPORT,total_bytes");
  ASSERT_TRUE(sessions.has_value()) << sessions.error().message;
  EXPECT_EQ(*sessions,
            (std::vector<FieldId>{FieldId::ClnAddr, FieldId::SrvPort, FieldId::TotalBytes}));
  EXPECT_FALSE(parse_field_list("cln_addr,nope").has_value());
  EXPECT_FALSE(parse_field_list(" , ").has_value());
}

}  // namespace
}  // namespace flowscope::query
