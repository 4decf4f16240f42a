// `flowscope capture` as a user meets it: usage errors (exit 2), filters, JSON, globs, stdin.
#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_support.h"

namespace flowscope {
namespace {

namespace fs = std::filesystem;

fs::path corpus_tcp() { return testing::corpus_root() / "tcp"; }

std::size_t lines(const std::string& s) {
  std::size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

TEST(CaptureCommand, UsageErrorsExitWithTwoAndSayWhatToDo) {
  auto none = testing::run_flowscope({"capture"});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("give either -r FILE... or -i INTERFACE"), std::string::npos);
  auto v9_no_target = testing::run_flowscope({"capture", "-r", "x.pcap", "--format", "v9"});
  EXPECT_EQ(v9_no_target.exit_code, 2);
  EXPECT_NE(v9_no_target.err.find("--export"), std::string::npos);
  auto bad_field = testing::run_flowscope({"capture", "-r", "x.pcap", "--fields", "srcaddr"});
  EXPECT_EQ(bad_field.exit_code, 2);
  EXPECT_NE(bad_field.err.find("see flowscope fields"), std::string::npos) << bad_field.err;
  auto no_match = testing::run_flowscope({"capture", "-r", "/nonexistent/*.pcap"});
  EXPECT_EQ(no_match.exit_code, 2);
  auto help = testing::run_flowscope({"capture", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("Examples:"), std::string::npos);
}

TEST(CaptureCommand, FiltersJsonGlobsAndMissingFiles) {
  const fs::path dir = corpus_tcp();
  if (!fs::is_directory(dir)) GTEST_SKIP() << "corpus not found at " << dir;
  const std::string file = (dir / "tf_test1.pcap").string();
  // tf_test1: 4 UDP sessions (tshark -z conv,udp), 3 of them DNS or NTP on well-known ports.
  auto udp = testing::run_flowscope({"capture", "-r", file, "-q", "--", "udp"});
  ASSERT_EQ(udp.exit_code, 0) << udp.err;
  EXPECT_EQ(lines(udp.out), 1u + 4u);
  auto bad = testing::run_flowscope({"capture", "-r", file, "-f", "tcp port"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("filter \"tcp port\""), std::string::npos);

  auto json = testing::run_flowscope({"capture", "-r", file, "-q", "--format", "json", "-f",
                                      "tcp port 80 and host 74.125.19.104"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  ASSERT_EQ(lines(json.out), 1u);
  const auto row = nlohmann::json::parse(json.out);
  EXPECT_EQ(row["cln_port"], 50955);
  EXPECT_EQ(row["srv_addr"], "74.125.19.104");
  EXPECT_EQ(row["cln_packets"], 7);  // tshark: 7 frames client to server, 6 back
  EXPECT_EQ(row["srv_packets"], 6);

  // A glob over the tf_test1 parts: part1 (15 packets) and part2 (17).
  auto glob = testing::run_flowscope({"capture", "-r", (dir / "tf_test1-part*.pcap").string()});
  ASSERT_EQ(glob.exit_code, 0) << glob.err;
  EXPECT_NE(glob.err.find("2 input(s), 32 packets"), std::string::npos) << glob.err;

  auto missing = testing::run_flowscope({"capture", "-r", "/nonexistent.pcap"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("/nonexistent.pcap"), std::string::npos);
}

}  // namespace
}  // namespace flowscope
