// Differential test against nfdump (issue F6): the same nfcapd file (tests/data/query/
// v9_5000.nfcapd, made by make_nfcapd.sh) read by nfdump and imported into a store by
// `flowscope import`; every filter of kFilters must select the same records in nfdump's syntax
// (`flowscope query --nfdump-filter`), and top-N statistics must give the same ranking and sums
// (`nfdump -s ...` against `flowscope stat`). Flows are one-sided sessions: nfdump's source is
// the client. Skipped when nfdump is not installed.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/csv.h"
#include "core/ip_address.h"
#include "core/ip_proto.h"
#include "core/time.h"
#include "store/store_test_support.h"

#include "test_support.h"

namespace flowscope::query {
namespace {

const std::string kFile = std::string(FLOWSCOPE_SOURCE_DIR) + "/tests/data/query/v9_5000.nfcapd";

// 58 filters: directions, addresses and networks of both families, ports with comparators,
// protocols, counters with scale suffixes, flags, AS, interfaces, VLANs, next hop, exporter,
// and boolean combinations.
const char* const kFilters[] = {
    "any",
    "proto tcp",
    "proto udp",
    "proto icmp",
    "not proto tcp",
    "proto tcp and port 443",
    "proto udp and dst port 53",
    "src port 443",
    "dst port 443",
    "port 80",
    "port > 1024",
    "port < 1024",
    "dst port >= 1024",
    "src port lt 1000",
    "dst port gt 50000",
    "src port = 53",
    "src ip 10.0.0.1",
    "dst ip 10.0.0.1",
    "ip 198.18.0.1",
    "host 198.18.0.2",
    "src net 10.0.0.0/24",
    "dst net 198.18.0.0/16",
    "net 10.0.0.0 255.255.255.240",
    "net 2001:db8::/32",
    "src net 2001:db8:5::/48",
    "ipv4",
    "ipv6",
    "inet6 and proto tcp",
    "packets > 10",
    "packets < 3",
    "packets >= 100",
    "bytes > 10000",
    "bytes < 500",
    "bytes > 1k",
    "bytes >= 100k",
    "bytes < 1m",
    "flags S",
    "flags SA",
    "flags F",
    "flags R",
    "flags AP",
    "not flags A",
    // nfdump 1.7.1 refuses AS filters without a GeoIP database ("Can not filter according geo
    // elements"), so AS filters are only in the parser tests.
    "dst port 80 or dst port 8080",
    "net 198.18.0.0/24 and not src ip 198.18.0.1",
    "src port 0",
    "in if 1",
    "out if 1",
    "if 2",
    "src vlan 100",
    "vlan 200",
    "next ip 10.0.0.254",
    "router ip 127.0.0.1",
    "(src ip 10.0.0.1 or dst ip 10.0.0.1) and proto udp",
    "not (port 443 or port 80)",
    "src net 10.0.0.0/8 and dst port 443 and bytes > 5000",
    "duration > 1000",
    "duration < 100",
    "tos 0",
    "proto tcp and not flags R and packets > 5",
};

// What identifies a record in both outputs.
struct Record {
  std::int64_t start_ms = 0;
  std::string src, dst;
  std::uint32_t sport = 0, dport = 0, proto = 0;
  std::uint64_t bytes = 0, packets = 0;
  friend auto operator<=>(const Record&, const Record&) = default;
};

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(' ');
  const auto e = s.find_last_not_of(' ');
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::uint32_t port_value(const std::string& text) {
  // nfdump prints ICMP ports as type.code; the store holds type * 256 + code.
  if (auto dot = text.find('.'); dot != std::string::npos) {
    return std::stoul(text.substr(0, dot)) * 256 + std::stoul(text.substr(dot + 1));
  }
  return static_cast<std::uint32_t>(std::stoul(text));
}

Record parse_record(const std::vector<std::string>& c) {
  Record r;
  const TimeContext ctx{time_from_ms(0), TimeZoneRef::utc()};
  auto t = parse_time(trim(c.at(0)), ctx);
  EXPECT_TRUE(t.has_value()) << c.at(0);
  r.start_ms = t ? to_ms(*t) : 0;
  r.src = IpAddress::parse(trim(c.at(1)))->to_string();
  r.dst = IpAddress::parse(trim(c.at(2)))->to_string();
  r.sport = port_value(trim(c.at(3)));
  r.dport = port_value(trim(c.at(4)));
  r.proto = *ip_proto::parse(trim(c.at(5)));
  r.bytes = std::stoull(trim(c.at(6)));
  r.packets = std::stoull(trim(c.at(7)));
  return r;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char ch : s) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return out + "'";
}

std::string run_nfdump(const std::string& args) {
  const std::string cmd = "TZ=UTC nfdump -q -N -r " + shell_quote(kFile) + " " + args + " 2>&1";
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

std::vector<std::vector<std::string>> csv_rows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  std::string line;
  std::vector<std::string> cells;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    split_csv_line(line, cells);
    rows.push_back(cells);
  }
  return rows;
}

class VsNfdump : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (std::system("nfdump -V > /dev/null 2>&1") != 0 || !std::filesystem::exists(kFile)) return;
    dir_ = new store::testing::TempDir();
    auto r = testing::run_flowscope({"import", "-d", dir_->path().string(), kFile});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ready_ = true;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (!ready_) GTEST_SKIP() << "nfdump or " << kFile << " not found";
  }

  static std::vector<std::string> common() {
    return {"-d", dir_->path().string(), "-t", "2026-01-01..2027-01-01", "--no-progress"};
  }

  static inline store::testing::TempDir* dir_ = nullptr;
  static inline bool ready_ = false;
};

TEST_F(VsNfdump, FiltersSelectTheSameRecords) {
  std::size_t compared = 0;
  std::size_t nonempty = 0;
  for (const char* filter : kFilters) {
    const std::string nf =
        run_nfdump("-o 'fmt:%ts,%sa,%da,%sp,%dp,%pr,%ibyt,%ipkt' " + shell_quote(filter));
    std::vector<Record> want;
    for (const auto& c : csv_rows(nf)) {
      if (c.size() == 1 && c[0] == "No matching flows") continue;
      ASSERT_EQ(c.size(), 8u) << filter << ": nfdump says " << nf.substr(0, 200);
      want.push_back(parse_record(c));
    }
    auto args = common();
    args.insert(args.begin(), "query");
    for (const char* a : {"--nfdump-filter", filter, "--csv", "--fields",
                          "start_time,cln_addr,srv_addr,cln_port,srv_port,proto,cln_bytes,"
                          "cln_packets"}) {
      args.push_back(a);
    }
    auto ours = testing::run_flowscope(args);
    ASSERT_EQ(ours.exit_code, 0) << filter << ": " << ours.err;
    std::vector<Record> got;
    for (const auto& c : csv_rows(ours.out)) got.push_back(parse_record(c));
    std::sort(want.begin(), want.end());
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got.size(), want.size()) << filter;
    EXPECT_TRUE(got == want) << filter;
    ++compared;
    nonempty += !want.empty();
  }
  EXPECT_GE(compared, 50u);
  EXPECT_GE(nonempty, 45u) << "most filters select something in the test data";
}

struct StatCase {
  const char* nfdump_stat;  // -s
  const char* filter;
  std::vector<std::string> ours;  // -grp and -cnt
  int value_column;               // in nfdump's CSV: fl 5, pkt 7, byt 9
};

TEST_F(VsNfdump, TopNStatisticsGiveTheSameRankingAndSums) {
  const StatCase cases[] = {
      {"ip/bytes", "", {"--grp", "host", "--cnt", "bytes"}, 9},
      {"srcip/bytes", "", {"--grp", "cln_addr", "--cnt", "bytes"}, 9},
      {"dstip/packets", "", {"--grp", "srv_addr", "--cnt", "packets"}, 7},
      {"dstport/flows", "", {"--grp", "srvport", "--cnt", "sessions"}, 5},
      {"srcport/bytes", "", {"--grp", "clnport", "--cnt", "bytes"}, 9},
      {"port/bytes", "", {"--grp", "port", "--cnt", "bytes"}, 9},
      {"proto/packets", "", {"--grp", "proto", "--cnt", "packets"}, 7},
      {"srcas/bytes", "", {"--grp", "cln_as", "--cnt", "bytes"}, 9},
      {"ip/flows", "proto tcp", {"--grp", "host", "--cnt", "sessions"}, 5},
      {"dstip/bytes", "src net 10.0.0.0/8", {"--grp", "srv_addr", "--cnt", "bytes"}, 9},
  };
  for (const StatCase& c : cases) {
    const std::string nf = run_nfdump(std::string("-s ") + c.nfdump_stat + " -n 10 -o csv " +
                                      (*c.filter ? shell_quote(c.filter) : ""));
    auto nf_rows = csv_rows(nf);
    ASSERT_GT(nf_rows.size(), 1u) << c.nfdump_stat << ": " << nf;
    nf_rows.erase(nf_rows.begin());  // header
    std::vector<std::pair<std::string, std::uint64_t>> want;
    for (const auto& r : nf_rows) {
      if (r.size() < 10) continue;
      std::string key = trim(r[4]);
      if (auto a = IpAddress::parse(key)) key = a->to_string();
      if (auto p = ip_proto::parse(key); p && std::string(c.nfdump_stat).starts_with("proto")) {
        key = std::to_string(*p);
      }
      want.push_back({key, std::stoull(r[static_cast<std::size_t>(c.value_column)])});
    }
    auto args = common();
    args.insert(args.begin(), "stat");
    args.insert(args.end(), c.ours.begin(), c.ours.end());
    for (const char* a : {"-n", "10", "--csv"}) args.push_back(a);
    if (*c.filter) {
      args.push_back("--nfdump-filter");
      args.push_back(c.filter);
    }
    args.push_back("--tz");
    args.push_back("UTC");
    auto ours = testing::run_flowscope(args);
    ASSERT_EQ(ours.exit_code, 0) << c.nfdump_stat << ": " << ours.err;
    std::vector<std::pair<std::string, std::uint64_t>> got;
    for (const auto& r : csv_rows(ours.out)) {
      if (r.at(0).empty()) continue;  // others, total
      std::string key = r.at(1);
      if (auto p = ip_proto::parse(key); p && std::string(c.nfdump_stat).starts_with("proto")) {
        key = std::to_string(*p);
      }
      got.push_back({key, std::stoull(r.at(2))});
    }
    ASSERT_EQ(got.size(), want.size()) << c.nfdump_stat << "\n" << nf << "\n" << ours.out;
    for (std::size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].second, want[i].second) << c.nfdump_stat << " rank " << i + 1;
      // Equal values may be ranked either way; otherwise the same group holds each rank.
      const bool tie = (i > 0 && want[i - 1].second == want[i].second) ||
                       (i + 1 < want.size() && want[i + 1].second == want[i].second);
      if (!tie) {
        EXPECT_EQ(got[i].first, want[i].first) << c.nfdump_stat << " rank " << i + 1;
      }
    }
  }
}

}  // namespace
}  // namespace flowscope::query
