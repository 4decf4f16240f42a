// `flowscope decode` end to end: the built binary on corpus captures.
#include <filesystem>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "decode/corpus_support.h"

#include "test_support.h"

namespace flowscope::testing {
namespace {

std::filesystem::path corpus_file(const std::string& relative) { return corpus_dir() / relative; }

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(DecodeCommand, CsvHasCanonicalHeaderAndOneLinePerRecord) {
  const auto path = corpus_file("netflow/ls_netflow5.pcap");
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "corpus not found at " << path;
  auto r = run_flowscope({"decode", path.string(), "--format", "csv", "--fields",
                          "src_addr,dst_port,proto,bytes,first,tcp_flags"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  EXPECT_EQ(lines[0], "src_addr,dst_port,proto,bytes,first,tcp_flags");
  EXPECT_EQ(lines[1], "10.0.2.2,22,tcp,230,2015-05-02T18:38:04.898Z,...A....");
}

TEST(DecodeCommand, JsonLinesKeepNumbersNumeric) {
  const auto path = corpus_file("ipfix/ls_ipfix_openbsd_pflow.pcap");
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "corpus not found at " << path;
  auto r = run_flowscope({"decode", path.string(), "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 26u);
  auto obj = nlohmann::json::parse(lines[0]);
  EXPECT_TRUE(obj["bytes"].is_number());
  EXPECT_TRUE(obj["first"].is_string());
  EXPECT_EQ(obj["version"], 10);
}

TEST(DecodeCommand, StatsAndPortsAndErrors) {
  const auto path = corpus_file("netflow/nd_netflowv9.pcap");
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "corpus not found at " << path;
  // UDP 2057 is not a default port: nothing is decoded without --port.
  auto plain = run_flowscope({"decode", path.string(), "--stats"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_NE(plain.out.find("other_port=10"), std::string::npos) << plain.out;
  auto with_port = run_flowscope({"decode", path.string(), "--stats", "--port", "2057"});
  EXPECT_NE(with_port.out.find("unknown_template=23"), std::string::npos) << with_port.out;

  auto bad_field = run_flowscope({"decode", path.string(), "--fields", "srcaddr"});
  EXPECT_EQ(bad_field.exit_code, 2);
  EXPECT_NE(bad_field.err.find("flowscope fields --kind flow"), std::string::npos);
  auto missing = run_flowscope({"decode", "/nonexistent.pcap"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("/nonexistent.pcap"), std::string::npos);
  auto help = run_flowscope({"decode", "--help"});
  EXPECT_NE(help.out.find("Examples:"), std::string::npos);
}

TEST(DecodeCommand, TemplateCacheCarriesTemplatesToTheNextRun) {
  const auto tpl = corpus_file("malformed/derived_nf9_data_without_template_cisco_asa_1.pcap");
  const auto full = corpus_file("netflow/ls_netflow9_cisco_asa_1.pcap");
  if (!std::filesystem::exists(tpl)) GTEST_SKIP() << "corpus not found at " << tpl;
  const auto cache =
      std::filesystem::temp_directory_path() / ("flowscope_cli_tpl_" + std::to_string(::getpid()));
  auto learn =
      run_flowscope({"decode", full.string(), "--stats", "--template-cache", cache.string()});
  ASSERT_EQ(learn.exit_code, 0) << learn.err;
  auto without = run_flowscope({"decode", tpl.string(), "--format", "csv"});
  auto with = run_flowscope(
      {"decode", tpl.string(), "--format", "csv", "--template-cache", cache.string()});
  std::filesystem::remove(cache);
  EXPECT_EQ(lines_of(without.out).size(), 1u);  // header only
  EXPECT_EQ(lines_of(with.out).size(), 15u);    // header + 14 records
}

}  // namespace
}  // namespace flowscope::testing
