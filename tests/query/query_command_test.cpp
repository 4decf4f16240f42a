// `flowscope query` and `flowscope stat` end to end on a fixed data set (the nfcapd file of the
// nfdump differential test, imported): outputs in every format against golden files
// (tests/golden/query/), the seed's two one-liners, usage errors with a caret.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/ip_address.h"
#include "enrich/tiny_dns.h"
#include "store/store_test_support.h"

#include "test_support.h"

namespace flowscope::query {
namespace {

const std::string kFile = std::string(FLOWSCOPE_SOURCE_DIR) + "/tests/data/query/v9_5000.nfcapd";

class QueryCommand : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (std::system("nfdump -V > /dev/null 2>&1") != 0) return;  // import reads nfcapd by nfdump
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
    if (!ready_) GTEST_SKIP() << "nfdump is needed to import " << kFile;
  }

  // Runs `flowscope <sub> -d DIR --now ... <args>`; the data are 2026-11-19T23:59 to 00:00.
  static testing::CommandResult run(const std::string& sub, std::vector<std::string> args) {
    std::vector<std::string> all = {
        sub, "-d", dir_->path().string(), "--now", "2026-11-21T00:00:00Z", "--no-progress"};
    all.insert(all.end(), args.begin(), args.end());
    return testing::run_flowscope(all);
  }

  // What differs between `flowscope SUB ARGS` and the golden file (empty when they match);
  // a failed run is a difference too. Test bodies assert it is empty.
  static std::string golden(const std::string& name, const std::string& sub,
                            std::vector<std::string> args) {
    auto r = run(sub, args);
    if (r.exit_code != 0) return "exit " + std::to_string(r.exit_code) + ": " + r.err;
    return testing::check_golden("query/" + name, r.out);
  }

  static inline store::testing::TempDir* dir_ = nullptr;
  static inline bool ready_ = false;
};

TEST_F(QueryCommand, SeedOneLiners) {
  // The top 25 hosts by bytes sent in the last week.
  EXPECT_EQ(golden("top25_hosts_sent_last_week.txt", "stat",
                   {"-t", "last week", "-grp", "host", "-cnt", "bytes", "-snd", "-n", "25"}),
            "");
  // The five host pairs that talked over the most distinct ports in the last five hours
  // (with now at the end of the data).
  auto r = testing::run_flowscope({"stat", "-d", dir_->path().string(), "--now",
                                   "2026-11-20T00:01:00Z", "-t", "last 5 hours", "-grp", "pair",
                                   "-cnt", "uports", "-n", "5", "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(testing::check_golden("query/top5_pairs_by_ports_last_5h.txt", r.out), "");
}

TEST_F(QueryCommand, RawSessionsInEveryFormat) {
  const std::vector<std::string> base = {"-t",
                                         "last week",
                                         "-c",
                                         "8",
                                         "-O",
                                         "cln_bytes:desc",
                                         "SRVPORT == 443 && CLNIP == 10.0.0.0/8"};
  EXPECT_EQ(golden("query_table.txt", "query", base), "");
  auto csv = base;
  csv.push_back("-c+");
  EXPECT_EQ(golden("query_csv_header.csv", "query", csv), "");
  auto plain = base;
  plain.push_back("--csv");
  plain.push_back("--fields");
  plain.push_back("start_time,duration,cln_addr,srv_addr,total_bytes,tcp_flags");
  EXPECT_EQ(golden("query_csv_fields.csv", "query", plain), "");
  auto json = base;
  json.push_back("--json");
  EXPECT_EQ(golden("query.jsonl", "query", json), "");
  auto fmt = base;
  fmt.push_back("-o");
  fmt.push_back("fmt:%cln_addr:%cln_port -> %{srv_addr}:%SRVPORT %total_bytes bytes (100%%)");
  EXPECT_EQ(golden("query_format.txt", "query", fmt), "");
  EXPECT_EQ(golden("query_nfdump_filter.txt", "query",
                   {"-t", "last week", "-c", "5", "-O", "start_time", "--nfdump-filter",
                    "src net 2001:db8::/32 and dst port 53"}),
            "");
}

TEST_F(QueryCommand, StatisticsInEveryFormat) {
  EXPECT_EQ(golden("stat_networks.csv", "stat",
                   {"-t", "last week", "-grp", "host/24/48", "-cnt", "sessions", "-n", "5", "-c+"}),
            "");
  EXPECT_EQ(golden("stat_ports_received.txt", "stat",
                   {"-t", "last week", "-grp", "srvport", "-cnt", "packets", "-rcv", "-n", "5",
                    "PROTO == tcp"}),
            "");
  // A series spans its whole window, empty buckets as zeros (23:58:00 to 00:01:40 here).
  const std::string minutes = "2026-11-19T23:58..2026-11-20T00:02";
  EXPECT_EQ(golden("stat_series.jsonl", "stat",
                   {"-t", minutes, "-grp", "proto", "-cnt", "bytes", "--bucket", "20s", "--json"}),
            "");
  EXPECT_EQ(golden("stat_series.txt", "stat",
                   {"-t", minutes, "-grp", "srvport", "-n", "2", "--bucket", "30s"}),
            "");
  EXPECT_EQ(golden("stat_unique_peers.csv", "stat",
                   {"-t", "last week", "-grp", "srv_addr", "-cnt", "uhosts", "-n", "5", "--csv"}),
            "");
  EXPECT_EQ(
      golden("stat_totals_only.txt", "stat", {"-t", "last week", "-grp", "", "-cnt", "sessions"}),
      "");
  // JSON types group keys as `query --json` types the fields: ports are numbers, networks text;
  // the others and total rows are flagged, not keyed.
  EXPECT_EQ(golden("stat_ports_networks.jsonl", "stat",
                   {"-t", "last week", "-grp", "srvport,srv_addr/16/32", "-n", "3", "--json"}),
            "");
  auto typed = run("stat", {"-t", "last week", "-grp", "srvport", "-n", "2", "--json"});
  ASSERT_EQ(typed.exit_code, 0) << typed.err;
  std::istringstream lines(typed.out);
  std::vector<nlohmann::json> rows;
  for (std::string line; std::getline(lines, line);) rows.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(rows.size(), 4u) << typed.out;
  EXPECT_TRUE(rows[0]["srv_port"].is_number_unsigned()) << rows[0];
  EXPECT_EQ(rows[2].value("others", false), true) << rows[2];
  EXPECT_FALSE(rows[2].contains("srv_port")) << rows[2];
  EXPECT_EQ(rows[3].value("total", false), true) << rows[3];
}

TEST_F(QueryCommand, EmptyWindowGivesTotalsOfZero) {
  auto r = run("stat", {"-t", "15m"});  // the default window holds nothing here
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("total (0 groups)"), std::string::npos) << r.out;
}

TEST_F(QueryCommand, BadInputIsAUsageErrorWithACaret) {
  auto r = run("query", {"-t", "last week", "SRVPORT == 443 && CLNIP = 10.0.0.300"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "flowscope: error: filter: \"10.0.0.300\" is not a valid value for CLNIP; expected an "
            "IPv4/IPv6 address or CIDR (10.0.0.0/8, 2001:db8::/32)\n"
            "  SRVPORT == 443 && CLNIP = 10.0.0.300\n"
            "                                   ^\n");
  auto nf = run("stat", {"--nfdump-filter", "src ip"});
  EXPECT_EQ(nf.exit_code, 2);
  EXPECT_NE(nf.err.find("nfdump filter: expected an IP address"), std::string::npos) << nf.err;
  auto grp = run("stat", {"-grp", "hots"});
  EXPECT_EQ(grp.exit_code, 2);
  EXPECT_NE(grp.err.find("cannot group by \"hots\"; use host, pair"), std::string::npos) << grp.err;
  auto cnt = run("stat", {"-cnt", "unique:TOTBYTS"});
  EXPECT_EQ(cnt.exit_code, 2);
  auto field = run("query", {"--fields", "cln_adr"});
  EXPECT_EQ(field.exit_code, 2);
  EXPECT_NE(field.err.find("did you mean"), std::string::npos) << field.err;
  auto time = run("query", {"-t", "last fortnight"});
  EXPECT_EQ(time.exit_code, 2);
  auto missing = testing::run_flowscope({"query", "-d", "/nonexistent/flowscope-data"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("does not exist"), std::string::npos);
}

TEST_F(QueryCommand, GraphIsAPng) {
  store::testing::TempDir out;
  const std::string png = (out.path() / "hosts.png").string();
  auto r = run("stat", {"-t", "last week", "-grp", "host", "-snd", "-n", "5", "--graph", png, "-gx",
                        "640", "-gy", "300", "--bucket", "10s"});
  if (r.err.find("built without cairo") != std::string::npos) GTEST_SKIP() << r.err;
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream in(png, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 1000u);
  EXPECT_EQ(bytes.substr(1, 3), "PNG");
  // Width and height are in the IHDR chunk, big-endian, at bytes 16 and 20.
  auto be32 = [&](std::size_t at) {
    return (std::uint32_t(std::uint8_t(bytes[at])) << 24) |
           (std::uint32_t(std::uint8_t(bytes[at + 1])) << 16) |
           (std::uint32_t(std::uint8_t(bytes[at + 2])) << 8) | std::uint8_t(bytes[at + 3]);
  };
  EXPECT_EQ(be32(16), 640u);
  EXPECT_EQ(be32(20), 300u);
  auto small = run("stat", {"-t", "last week", "--graph", png, "-gx", "10"});
  // A usage error, before the query runs (F16: -gx/-gy range-checked).
  EXPECT_EQ(small.exit_code, 2);
  EXPECT_NE(small.err.find("200x120 to 16384x16384"), std::string::npos) << small.err;
  auto huge = run("stat", {"-t", "last week", "--graph", png, "-gy", "100000"});
  EXPECT_EQ(huge.exit_code, 2) << huge.err;
}

TEST_F(QueryCommand, HelpEndsWithExamples) {
  for (const char* sub : {"query", "stat"}) {
    auto r = testing::run_flowscope({sub, "--help"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("Examples:\n  flowscope "), std::string::npos) << sub;
  }
}

}  // namespace
}  // namespace flowscope::query

namespace flowscope::query {
namespace {

// "192.0.2.1" -> "1.2.0.192.in-addr.arpa" (RFC 1035 §3.5), IPv6 by nibbles under ip6.arpa
// (RFC 3596 §2.5).
std::string ptr_name(const std::string& text) {
  const IpAddress a = *IpAddress::parse(text);
  const auto& b = a.bytes();
  std::string out;
  if (a.is_v4()) {
    for (int i = 15; i >= 12; --i) out += std::to_string(static_cast<unsigned>(b[i])) + ".";
    return out + "in-addr.arpa";
  }
  const char* hex = "0123456789abcdef";
  for (int i = 15; i >= 0; --i) {
    const auto v = static_cast<unsigned>(b[i]);
    out += hex[v & 15];
    out += '.';
    out += hex[v >> 4];
    out += '.';
  }
  return out + "ip6.arpa";
}

// --names prints the PTR names of enrich's reverse DNS (a resolver on 127.0.0.1 here) instead
// of the addresses that have one, in stat's keys and query's rows; the numbers stay the same.
TEST_F(QueryCommand, NamesReplaceAddressesThatHaveOne) {
  testing::TinyDns dns;
  ASSERT_TRUE(dns.ok());
  const std::vector<std::string> stat_args = {"-t", "last week", "-grp",  "host",
                                              "-n", "3",         "--json"};
  auto plain = run("stat", stat_args);
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  std::vector<nlohmann::json> rows;
  std::istringstream lines(plain.out);
  for (std::string line; std::getline(lines, line);) rows.push_back(nlohmann::json::parse(line));
  ASSERT_GE(rows.size(), 3u);
  const std::string a = rows[0]["addr"], b = rows[1]["addr"], c = rows[2]["addr"];
  ASSERT_EQ(a.find(':'), std::string::npos) << "the test data are IPv4";
  dns.answer(ptr_name(a), "first.example.test");
  dns.answer(ptr_name(b), "second.example.test");
  dns.nxdomain(ptr_name(c));
  auto named_args = stat_args;
  named_args.insert(named_args.end(), {"--names", "--dns", dns.server()});
  auto named = run("stat", named_args);
  ASSERT_EQ(named.exit_code, 0) << named.err;
  std::vector<nlohmann::json> named_rows;
  std::istringstream named_lines(named.out);
  for (std::string line; std::getline(named_lines, line);) {
    named_rows.push_back(nlohmann::json::parse(line));
  }
  ASSERT_EQ(named_rows.size(), rows.size());
  EXPECT_EQ(named_rows[0]["addr"], "first.example.test");
  EXPECT_EQ(named_rows[1]["addr"], "second.example.test");
  EXPECT_EQ(named_rows[2]["addr"], c);  // NXDOMAIN: the address
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(named_rows[i]["bytes"], rows[i]["bytes"]);
  }

  // query: the same names in the client and server columns, every other cell unchanged.
  const std::vector<std::string> query_args = {
      "-t", "last week", "-c", "200", "-o", "fmt:%cln_addr %srv_addr %total_bytes"};
  auto raw = run("query", query_args);
  ASSERT_EQ(raw.exit_code, 0) << raw.err;
  {  // every other address has no name (NXDOMAIN), as a real server would answer
    std::istringstream words(raw.out);
    for (std::string cln, srv, bytes; words >> cln >> srv >> bytes;) {
      for (const std::string& s : {cln, srv}) {
        if (s != a && s != b) dns.nxdomain(ptr_name(s));
      }
    }
  }
  auto raw_named_args = query_args;
  raw_named_args.insert(raw_named_args.end(), {"--names", "--dns", dns.server()});
  auto raw_named = run("query", raw_named_args);
  ASSERT_EQ(raw_named.exit_code, 0) << raw_named.err;
  std::string want;
  std::size_t renamed = 0;
  std::istringstream in(raw.out);
  for (std::string cln, srv, bytes; in >> cln >> srv >> bytes;) {
    for (std::string* s : {&cln, &srv}) {
      if (*s == a || *s == b) {
        *s = *s == a ? "first.example.test" : "second.example.test";
        ++renamed;
      }
    }
    want += cln + " " + srv + " " + bytes + "\n";
  }
  EXPECT_GT(renamed, 0u);
  EXPECT_EQ(raw_named.out, want);
  // Names come from the data directory; a server's are its own.
  auto remote = testing::run_flowscope({"query", "-srv", "127.0.0.1:1", "--names"});
  EXPECT_EQ(remote.exit_code, 2);
  EXPECT_NE(remote.err.find("--names"), std::string::npos) << remote.err;
}

}  // namespace
}  // namespace flowscope::query

namespace flowscope::query {
namespace {

// A window that reaches past the raw retention: query (raw rows) and a stat answered from raw
// rows say on stderr which part of the window they lack; a window inside it gets no note.
TEST(RawRetention, AnswersFromRawRowsNameTheMissingPart) {
  store::testing::TempDir dir;
  const std::string data = (dir.path() / "data").string();
  auto r = testing::run_flowscope({"gen", "sessions", "-d", data, "--start", "2026-11-01T00:00:00Z",
                                   "--duration", "3d", "--rate", "0.02", "--seed", "3", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = testing::run_flowscope({"store", "config", "-d", data, "--keep", "raw=1d"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> common = {"-d", data, "--now", "2026-11-04T00:00:00Z",
                                           "--no-progress"};
  r = testing::run_flowscope({"store", "retention", "-d", data, "--now", "2026-11-04T00:00:00Z"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string note =
      "lacks those from 2026-11-01T00:00:00Z to 2026-11-03T00:00:00Z; only rollups cover";
  for (const std::string sub : {"query", "stat"}) {
    std::vector<std::string> args = {sub, "-t", "last 3 days"};
    args.insert(args.end(), common.begin(), common.end());
    r = testing::run_flowscope(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find(note), std::string::npos) << sub << ": " << r.err;
    args[2] = "last 12 hours";
    r = testing::run_flowscope(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err.find("note:"), std::string::npos) << sub << ": " << r.err;
  }
}

}  // namespace
}  // namespace flowscope::query

namespace flowscope::query {
namespace {

// The same window in JSON: `query --json` ends with one object whose only key is "missing"
// (every other line stays a session row); `stat --json` puts it on the total row. A window
// inside retention, and the table, get neither.
TEST(RawRetention, JsonOutputCarriesTheMissingRange) {
  store::testing::TempDir dir;
  const std::string data = (dir.path() / "data").string();
  auto r = testing::run_flowscope({"gen", "sessions", "-d", data, "--start", "2026-11-01T00:00:00Z",
                                   "--duration", "3d", "--rate", "0.02", "--seed", "3", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = testing::run_flowscope({"store", "config", "-d", data, "--keep", "raw=1d"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = testing::run_flowscope({"store", "retention", "-d", data, "--now", "2026-11-04T00:00:00Z"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json missing = {{"from", "2026-11-01T00:00:00Z"}, {"from_ms", 1793491200000},
                                  {"to", "2026-11-03T00:00:00Z"},   {"to_ms", 1793664000000},
                                  {"reason", "raw_retention"},      {"keep_raw", "1d"}};
  auto lines_of = [](const std::string& text) {
    std::vector<nlohmann::json> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) out.push_back(nlohmann::json::parse(line));
    }
    return out;
  };
  auto run = [&](const std::string& sub, const std::string& window,
                 std::vector<std::string> extra) {
    std::vector<std::string> args = {
        sub, "-t", window, "-d", data, "--now", "2026-11-04T00:00:00Z", "--no-progress"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto res = testing::run_flowscope(args);
    EXPECT_EQ(res.exit_code, 0) << res.err;
    return res;
  };

  auto q = lines_of(run("query", "last 3 days", {"--json"}).out);
  ASSERT_GE(q.size(), 2u);
  EXPECT_EQ(q.back(), nlohmann::json({{"missing", missing}}));
  for (std::size_t i = 0; i + 1 < q.size(); ++i) {
    EXPECT_FALSE(q[i].contains("missing")) << q[i];
    EXPECT_TRUE(q[i].contains("start_time")) << q[i];
  }
  for (const auto& row : lines_of(run("query", "last 12 hours", {"--json"}).out)) {
    EXPECT_FALSE(row.contains("missing")) << row;
  }
  EXPECT_EQ(run("query", "last 3 days", {}).out.find("missing"), std::string::npos);

  auto s = lines_of(run("stat", "last 3 days", {"--json"}).out);
  ASSERT_GE(s.size(), 2u);
  EXPECT_EQ(s.back().value("total", false), true);
  EXPECT_EQ(s.back()["missing"], missing);
  for (std::size_t i = 0; i + 1 < s.size(); ++i) EXPECT_FALSE(s[i].contains("missing")) << s[i];
  const auto inside = lines_of(run("stat", "last 12 hours", {"--json"}).out);
  ASSERT_FALSE(inside.empty());
  EXPECT_FALSE(inside.back().contains("missing"));
}

}  // namespace
}  // namespace flowscope::query
