// nDPI application labels (the `application` field) on a corpus capture whose traffic is known:
// tf_test1 holds HTTP to Apple and Google, DNS, NTP and ICMP. Skipped in builds without nDPI.
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "test_support.h"

namespace flowscope {
namespace {

namespace fs = std::filesystem;

std::multimap<std::string, std::string> labels(const std::vector<std::string>& extra) {
  const char* env = std::getenv("FLOWSCOPE_CORPUS");
  const fs::path file =
      (env != nullptr ? fs::path(env) : fs::path(FLOWSCOPE_SOURCE_DIR) / "tests/data/corpus") /
      "tcp" / "tf_test1.pcap";
  std::vector<std::string> args = {"capture", "-r",       file.string(),
                                   "-q",      "--fields", "proto,srv_port,application"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto r = testing::run_flowscope(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::multimap<std::string, std::string> out;  // "tcp/80" -> label
  std::istringstream in(r.out);
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    const auto a = line.find(','), b = line.find(',', a + 1);
    out.emplace(line.substr(0, a) + "/" + line.substr(a + 1, b - a - 1), line.substr(b + 1));
  }
  return out;
}

TEST(AppLabel, NdpiNamesTheApplicationsOfAKnownCapture) {
#ifndef FLOWSCOPE_HAVE_NDPI
  GTEST_SKIP() << "built without nDPI (install libndpi-dev and reconfigure)";
#else
  const char* env = std::getenv("FLOWSCOPE_CORPUS");
  if (!fs::exists(
          (env != nullptr ? fs::path(env) : fs::path(FLOWSCOPE_SOURCE_DIR) / "tests/data/corpus") /
          "tcp" / "tf_test1.pcap")) {
    GTEST_SKIP() << "corpus not found";
  }
  const auto with = labels({});
  int http = 0, dns = 0;
  for (const auto& [key, label] : with) {
    if (key == "tcp/80") {
      EXPECT_TRUE(label.starts_with("HTTP")) << label;
      ++http;
    }
    if (key == "udp/53") {
      EXPECT_TRUE(label.starts_with("DNS")) << label;
      ++dns;
    }
    if (key == "udp/123") {
      EXPECT_EQ(label, "NTP");
    }
  }
  EXPECT_EQ(http, 3);
  EXPECT_EQ(dns, 2);
  for (const auto& [key, label] : labels({"--no-dpi"})) EXPECT_EQ(label, "") << key;
#endif
}

}  // namespace
}  // namespace flowscope
