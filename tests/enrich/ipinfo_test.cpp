// The IP-info file (save/load, errors with lines) and `flowscope ipinfo refresh/show` against a
// small resolver on 127.0.0.1: new addresses only, then --all re-resolves everything.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "enrich/ip_info_table.h"
#include "enrich/tiny_dns.h"

#include "test_support.h"

namespace flowscope::enrich {
namespace {

namespace fs = std::filesystem;
using flowscope::testing::run_flowscope;

struct TempDir {
  TempDir() {
    path = fs::temp_directory_path() /
           ("flowscope_ipinfo_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  fs::path path;
  static inline int counter = 0;
};

IpAddress ip(std::string_view s) { return *IpAddress::parse(s); }

TEST(IpInfoFile, RoundTripsAndQueuedComesBackAsNew) {
  TempDir dir;
  IpInfoTable t;
  t.set(ip("192.0.2.1"), IpInfo{"a.example.test", NameState::Resolved, time_from_ms(1000)});
  t.set(ip("2001:db8::5"), IpInfo{"", NameState::NotFound, time_from_ms(2000)});
  t.set(ip("192.0.2.9"), IpInfo{"", NameState::Queued, time_from_ms(3000)});
  t.set(ip("192.0.2.7"), IpInfo{"tab\there", NameState::Resolved, time_from_ms(4000)});
  ASSERT_TRUE(t.save(dir.path / "ipinfo.tsv"));
  IpInfoTable back;
  ASSERT_TRUE(back.load(dir.path / "ipinfo.tsv"));
  ASSERT_EQ(back.size(), 4u);
  EXPECT_EQ(back.get(ip("192.0.2.1"))->name, "a.example.test");
  EXPECT_EQ(back.get(ip("192.0.2.1"))->updated, time_from_ms(1000));
  EXPECT_EQ(back.get(ip("2001:db8::5"))->state, NameState::NotFound);
  EXPECT_EQ(back.get(ip("192.0.2.9"))->state, NameState::New);
  EXPECT_EQ(back.get(ip("192.0.2.7"))->name, "tab here");  // a tab cannot break the file
}

TEST(IpInfoFile, BadLinesAreNamed) {
  TempDir dir;
  const fs::path p = dir.path / "ipinfo.tsv";
  auto load = [&](const std::string& text) {
    std::ofstream(p) << text;
    IpInfoTable t;
    auto r = t.load(p);
    return r ? std::string() : r.error().message;
  };
  EXPECT_NE(load("hello\n").find(":1: not a flowscope IP-info file"), std::string::npos);
  EXPECT_NE(load("# flowscope ipinfo 1\n192.0.2.1\tresolved\n").find(":2: expected 4"),
            std::string::npos);
  EXPECT_NE(load("# flowscope ipinfo 1\n192.0.2.x\tnew\t0\t\n").find(":2: \"192.0.2.x\""),
            std::string::npos);
  EXPECT_NE(load("# flowscope ipinfo 1\n192.0.2.1\tweird\t0\t\n").find("unknown state"),
            std::string::npos);
}

std::map<std::string, std::string> show(const std::string& data) {
  auto r = run_flowscope({"ipinfo", "show", "-d", data, "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, std::string> names;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    names[j["address"]] = j["state"].get<std::string>() + ":" + j["name"].get<std::string>();
  }
  return names;
}

TEST(IpInfoCommand, RefreshResolvesNewAddressesThenAllWithAll) {
  testing::TinyDns dns;
  ASSERT_TRUE(dns.ok());
  dns.answer("1.2.0.192.in-addr.arpa", "client.example.test");
  dns.answer("80.2.0.192.in-addr.arpa", "web.example.test");
  dns.nxdomain("2.2.0.192.in-addr.arpa");
  TempDir dir;
  const std::string data = (dir.path / "data").string();
  const fs::path csv = dir.path / "s.csv";
  std::ofstream(csv) << "cln_addr,srv_addr,srv_port,start_time,cln_bytes\n"
                        "192.0.2.1,192.0.2.80,443,2026-11-24T00:00:00Z,10\n"
                        "192.0.2.2,192.0.2.80,443,2026-11-24T00:01:00Z,20\n";
  ASSERT_EQ(run_flowscope({"import", "-d", data, csv.string()}).exit_code, 0);

  auto r =
      run_flowscope({"ipinfo", "refresh", "-d", data, "--dns", dns.server(), "--timeout", "0.5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("3 addresses (3 new from the store); resolved 3: 2 names, 1 without"),
            std::string::npos)
      << r.out;
  auto names = show(data);
  EXPECT_EQ(names["192.0.2.1"], "resolved:client.example.test");
  EXPECT_EQ(names["192.0.2.80"], "resolved:web.example.test");
  EXPECT_EQ(names["192.0.2.2"], "notfound:");

  // A second refresh has nothing new to ask.
  const std::size_t queries = dns.queries();
  r = run_flowscope({"ipinfo", "refresh", "-d", data, "--dns", dns.server()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(dns.queries(), queries);
  EXPECT_NE(r.out.find("resolved 0:"), std::string::npos) << r.out;

  // --all asks again and picks up a changed name.
  dns.answer("80.2.0.192.in-addr.arpa", "www.example.test");
  r = run_flowscope({"ipinfo", "refresh", "-d", data, "--dns", dns.server(), "--all"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(dns.queries(), queries + 3);
  EXPECT_EQ(show(data)["192.0.2.80"], "resolved:www.example.test");

  // Lookups of given addresses, known or not.
  auto one = run_flowscope({"ipinfo", "show", "-d", data, "192.0.2.1", "198.51.100.1"});
  ASSERT_EQ(one.exit_code, 0);
  EXPECT_NE(one.out.find("client.example.test"), std::string::npos);
  EXPECT_NE(one.out.find("198.51.100.1"), std::string::npos);

  auto missing = run_flowscope({"ipinfo", "show", "-d", (dir.path / "nope").string()});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("does not exist"), std::string::npos);
}

}  // namespace
}  // namespace flowscope::enrich
