// `flowscope report` end to end on a fixed data set: two days of `flowscope gen sessions` with
// the IP groups of tests/data/report/groups.toml (locations and activities). Every number of
// the report's tables is checked against the `flowscope stat` command its table names (run
// here with --json); 'others' is the total minus the rows shown, the 95th percentile is the
// nearest-rank value of the 5-minute rates; the PDF renders page by page with text on each
// (one page image kept beside the test binary); the HTML is self-contained and well-formed;
// bad options are refused with the allowed values.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "store/store_test_support.h"

#include "report/report_format.h"
#include "report/volume_report.h"
#include "test_support.h"

namespace flowscope::report {
namespace {

namespace fs = std::filesystem;
const std::string kGroups = std::string(FLOWSCOPE_SOURCE_DIR) + "/tests/data/report/groups.toml";
constexpr double kSeconds = 2 * 86400.0;  // --start 2026-11-01 --end 2026-11-02

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class ReportCommand : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new store::testing::TempDir();
    data_ = dir_->path() / "data";
    auto g = testing::run_flowscope({"gen", "sessions", "-d", data_.string(), "--groups", kGroups,
                                     "--start", "2026-11-01T00:00:00Z", "--duration", "2d",
                                     "--rate", "0.5", "--seed", "7", "-q"});
    ASSERT_EQ(g.exit_code, 0) << g.err;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  // Runs a report into OUT/<name> and returns its JSON model.
  static nlohmann::json report(const std::string& name, std::vector<std::string> extra) {
    const fs::path out = dir_->path() / name;
    std::vector<std::string> args = {
        "report",   "volume",        "-d",    data_.string(),         "--groups", kGroups,
        "--start",  "2026-11-01",    "--end", "2026-11-02",           "--out",    out.string(),
        "--format", "pdf,html,json", "--now", "2026-12-06T03:00:00Z", "-q"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = testing::run_flowscope(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::string type = "manager";
    for (std::size_t i = 0; i + 1 < extra.size(); ++i) {
      if (extra[i] == "--type") type = extra[i + 1];
    }
    base_ = out / ("volume-" + type);
    return nlohmann::json::parse(slurp(base_.string() + ".json"));
  }

  // Runs one query line of a table ("flowscope stat ...") with --json; its JSON lines.
  static std::vector<nlohmann::json> stat(const std::string& command) {
    EXPECT_EQ(command.rfind("flowscope stat ", 0), 0u) << command;
    const std::string line =
        std::string(FLOWSCOPE_BINARY) + command.substr(9) + " --json --no-progress";
    std::vector<nlohmann::json> rows;
    std::istringstream in(testing::run_shell(line));
    for (std::string l; std::getline(in, l);) rows.push_back(nlohmann::json::parse(l));
    EXPECT_FALSE(rows.empty()) << line;
    return rows;
  }

  static std::vector<nlohmann::json> tables(const nlohmann::json& rep) {
    std::vector<nlohmann::json> out;
    for (const auto& s : rep["sections"]) {
      for (const auto& t : s["tables"]) out.push_back(t);
    }
    return out;
  }

  static nlohmann::json table(const nlohmann::json& rep, const std::string& title, int nth = 0) {
    for (const auto& t : tables(rep)) {
      if (t["title"] == title && nth-- == 0) return t;
    }
    ADD_FAILURE() << "no table " << title;
    return nlohmann::json::object();
  }

  static int column(const nlohmann::json& t, const std::string& name) {
    const auto& cols = t["columns"];
    for (std::size_t i = 0; i < cols.size(); ++i) {
      if (cols[i] == name) return static_cast<int>(i);
    }
    ADD_FAILURE() << "no column " << name << " in " << t["title"];
    return 0;
  }

  // A ranked table (host, service, pair, ...) against its stat: the shown rows are the stat's
  // top rows at or above the threshold, in order, with the same bytes and sessions; 'others'
  // is the total minus them; the total is the stat's.
  static void check_ranked(const nlohmann::json& t, double threshold_bps) {
    SCOPED_TRACE(t["title"].get<std::string>());
    const std::string query = t["query"].get<std::string>();
    const auto rows = stat(query.substr(0, query.find('\n')));
    const int vol = column(t, "Volume"), ses = column(t, "Sessions");
    std::size_t shown = 0;
    std::uint64_t shown_bytes = 0, shown_sessions = 0;
    const auto& body = t["rows"];
    const std::size_t nbody = body.size() - t["footer_rows"].get<std::size_t>();
    for (const auto& r : rows) {
      if (!r.contains("rank")) continue;
      const auto bytes = r["bytes"].get<std::uint64_t>();
      if (bytes * 8.0 / kSeconds < threshold_bps) continue;
      ASSERT_LT(shown, nbody) << r.dump();
      const auto& cells = body[shown];
      EXPECT_EQ(cells[vol]["value"].get<std::uint64_t>(), bytes) << r.dump();
      EXPECT_EQ(cells[ses]["value"].get<std::uint64_t>(), r["sessions"].get<std::uint64_t>());
      shown_bytes += bytes;
      shown_sessions += r["sessions"].get<std::uint64_t>();
      ++shown;
    }
    EXPECT_EQ(shown, nbody);
    const auto& total = rows.back();
    ASSERT_EQ(total["total"], true);
    const auto& others = body[nbody];
    const auto& tot = body[nbody + 1];
    EXPECT_EQ(tot[vol]["value"].get<std::uint64_t>(), total["bytes"].get<std::uint64_t>());
    EXPECT_EQ(tot[ses]["value"].get<std::uint64_t>(), total["sessions"].get<std::uint64_t>());
    EXPECT_EQ(others[vol]["value"].get<std::uint64_t>(),
              total["bytes"].get<std::uint64_t>() - shown_bytes);
    EXPECT_EQ(others[ses]["value"].get<std::uint64_t>(),
              total["sessions"].get<std::uint64_t>() - shown_sessions);
  }

  static inline store::testing::TempDir* dir_ = nullptr;
  static inline fs::path data_;
  static inline fs::path base_;
};

TEST_F(ReportCommand, ManagerNumbersEqualStat) {
  const auto rep = report("manager", {});
  EXPECT_EQ(rep["title"], "Network volume: manager report");
  // Totals.
  const auto totals = table(rep, "Totals");
  const auto t = stat(totals["query"].get<std::string>()).back();
  EXPECT_EQ(totals["rows"][0][1]["value"], t["bytes"]);
  EXPECT_EQ(totals["rows"][1][1]["value"], t["packets"]);
  EXPECT_EQ(totals["rows"][2][1]["value"], t["sessions"]);
  // Top-5 hosts equal stat's answer (every top-5 host is above 1000 b/s here), services,
  // countries (no GeoIP: one '(unknown)' row).
  const auto hosts = table(rep, "Top hosts");
  EXPECT_EQ(hosts["rows"].size(), 5u + 2u);
  EXPECT_NE(hosts["query"].get<std::string>().find("-grp host -cnt bytes -n 5"), std::string::npos);
  check_ranked(hosts, 1000);
  check_ranked(table(rep, "Top services"), 0);
  check_ranked(table(rep, "Top countries"), 0);
  // Locations: the groups' rows of `-grp group` summed per location of the groups file.
  const std::map<std::string, std::string> location_of = {
      {"1", "Brussels HQ"},  {"2", "Brussels HQ"}, {"3", "Liege campus"},
      {"4", "Remote sites"}, {"5", "Data centre"}, {"6", "Data centre"}};
  const auto locs = table(rep, "Top locations");
  std::map<std::string, std::uint64_t> want;
  for (const auto& r : stat(locs["query"].get<std::string>())) {
    if (!r.contains("rank")) continue;
    // Group ids (`-grp group_id`) are numbers in stat --json, as in query --json.
    const std::string id = r["group_id"].is_null() ? "" : std::to_string(r["group_id"].get<int>());
    want[id.empty() ? "(outside IP groups)" : location_of.at(id)] +=
        r["bytes"].get<std::uint64_t>();
  }
  ASSERT_EQ(locs["rows"].size(), want.size() + 2);  // 5 locations (top 5) + others + total
  for (std::size_t i = 0; i + 2 < locs["rows"].size(); ++i) {
    const auto& row = locs["rows"][i];
    EXPECT_EQ(row[2]["value"].get<std::uint64_t>(), want.at(row[1]["text"].get<std::string>()))
        << row.dump();
  }
  // The 95th percentile of the 5-minute rates (both directions), recomputed here.
  const auto peaks = table(rep, "Peaks (5-minute averages)");
  const std::string q = peaks["query"].get<std::string>();
  const auto out = stat(q.substr(0, q.find('\n')));
  const auto in = stat(q.substr(q.find('\n') + 1));
  std::vector<double> bps;
  for (std::size_t b = 0; b < out[0]["series"].size(); ++b) {
    bps.push_back(
        (out[0]["series"][b]["value"].get<double>() + in[0]["series"][b]["value"].get<double>()) *
        8 / 300);
  }
  ASSERT_EQ(bps.size(), 576u);  // two days of 5-minute buckets, empty ones included
  std::sort(bps.begin(), bps.end());
  const double p95 = bps[static_cast<std::size_t>(std::ceil(0.95 * 576)) - 1];  // rank 548
  EXPECT_EQ(peaks["rows"][2][0]["text"], "both");
  EXPECT_EQ(peaks["rows"][2][3]["text"], human_rate(p95));
  EXPECT_EQ(peaks["rows"][2][4]["text"], human_rate(bps.back()));
}

TEST_F(ReportCommand, ThresholdFoldsHostsAndPairsIntoOthers) {
  const auto rep =
      report("conversation", {"--type", "conversation", "--threshold", "50000", "--top", "10"});
  const auto pairs = table(rep, "Top host pairs");
  check_ranked(pairs, 50000);
  EXPECT_NE(pairs["note"].get<std::string>().find("below 50000 b/s"), std::string::npos);
  // Conversation matrix of locations: every cell from `-grp cln_group,srv_group`.
  const auto m = table(rep, "Locations: clients (rows) to servers (columns), bytes both ways");
  EXPECT_GE(m["rows"].size(), 3u);
}

TEST_F(ReportCommand, OperatorHasPeaksTcpHealthAndFtp) {
  const auto rep = report("operator", {"--type", "operator", "--location", "Brussels HQ"});
  const auto health = table(rep, "Retransmissions and handshake round trips");
  // The TCP sessions of each part equal stat's count.
  const std::string q = health["query"].get<std::string>();
  const auto all_tcp = stat(q.substr(0, q.find('\n'))).back();
  EXPECT_EQ(health["rows"][0][1]["value"], all_tcp["sessions"]);
  EXPECT_EQ(health["rows"][0][0]["text"], "Brussels HQ");
  EXPECT_EQ(health["rows"].back()[0]["text"], "all");
  EXPECT_NE(health["rows"].back()[5]["text"], "-");  // gen sessions carries handshake RTTs
  const auto ftp = table(rep, "Largest FTP transfers (top 5)");
  ASSERT_EQ(ftp["rows"].size(), 5u);
  EXPECT_EQ(ftp["rows"][0][4]["text"].get<std::string>().find('#'), 0u);
  EXPECT_NE(ftp["rows"][0][4]["text"].get<std::string>().find(":21"), std::string::npos);
  bool location_section = false;
  for (const auto& s : rep["sections"]) location_section |= s["heading"] == "Location: Brussels HQ";
  EXPECT_TRUE(location_section);
}

TEST_F(ReportCommand, PdfRendersEveryPageAndHtmlIsSelfContained) {
  const auto rep = report("render", {});
  const std::string pdf = base_.string() + ".pdf";
  const std::string info = testing::run_shell("pdfinfo " + pdf + " 2>&1");
  const auto p = info.find("Pages:");
  ASSERT_NE(p, std::string::npos) << info;
  const int pages = std::stoi(info.substr(p + 6));
  EXPECT_GE(pages, 3);
  // Every page has text and turns into a PNG with ink on it.
  const fs::path png = dir_->path() / "page";
  testing::run_shell("pdftoppm -png -r 40 " + pdf + " " + png.string());
  for (int i = 1; i <= pages; ++i) {
    const std::string text =
        testing::run_shell(fmt::format("pdftotext -f {} -l {} {} - 2>/dev/null", i, i, pdf));
    EXPECT_GT(text.size(), 100u) << "page " << i;
  }
  int images = 0;
  for (const auto& e : fs::directory_iterator(dir_->path())) {
    if (e.path().extension() == ".png") {
      ++images;
      EXPECT_GT(fs::file_size(e.path()), 2000u) << e.path();  // a blank page compresses to less
    }
  }
  EXPECT_EQ(images, pages);
  // The first page as the test's artifact.
  std::error_code ec;
  fs::create_directories("report_artifacts", ec);
  testing::run_shell("pdftoppm -png -r 80 -f 1 -l 1 -singlefile " + pdf +
                     " report_artifacts/manager-page1");
  EXPECT_TRUE(fs::exists("report_artifacts/manager-page1.png"));
  const std::string text = testing::run_shell("pdftotext " + pdf + " - 2>/dev/null");
  for (const char* want : {"Network volume: manager report", "Top hosts", "Top locations",
                           "Brussels HQ", "95th percentile", "query: flowscope stat"}) {
    EXPECT_NE(text.find(want), std::string::npos) << want;
  }

  const std::string html = slurp(base_.string() + ".html");
  for (const char* fetch :
       {"src=", "href=", "url(", "<script", "<link", "http://", "https://", "@import"}) {
    EXPECT_EQ(html.find(fetch), std::string::npos) << fetch;
  }
  const std::string lint =
      testing::run_shell("xmllint --noout " + base_.string() + ".html 2>&1; echo rc=$?");
  EXPECT_EQ(lint, "rc=0\n");
  // The same tables, with the same exact numbers, as the JSON model.
  std::size_t tables_in_html = 0;
  for (std::size_t p2 = html.find("<table>"); p2 != std::string::npos;
       p2 = html.find("<table>", p2 + 1)) {
    ++tables_in_html;
  }
  EXPECT_EQ(tables_in_html, tables(rep).size());
  const auto hosts = table(rep, "Top hosts");
  EXPECT_NE(html.find(fmt::format("data-value=\"{}\"",
                                  hosts["rows"][0][2]["value"].get<std::uint64_t>())),
            std::string::npos);
  EXPECT_NE(html.find("<svg"), std::string::npos);
}

TEST_F(ReportCommand, BadOptionsAreRefusedWithTheChoices) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"--type", "boss"}, "unknown report type \"boss\"; use manager, operator or conversation"},
      {{"--top", "7"}, "--top 7: use 5, 10, 15, 20 or 25"},
      {{"--threshold", "2000"}, "use 0, 1000, 10000, 50000, 100000 or 500000"},
      {{"--start", "2026-11-10", "--end", "2026-11-01"}, "is not before --end"},
      {{"--location", "Mars"},
       "--location \"Mars\" is unknown; known: \"Brussels HQ\", \"Liege "
       "campus\", \"Remote sites\", \"Data centre\""},
      {{"--activity", "Dancing"}, "--activity \"Dancing\" is unknown; known:"},
      {{"--host", "nowhere host"}, "--host \"nowhere host\" is neither"},
      {{"--format", "docx"}, "use pdf, html or json"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = {
        "report",   "volume", "-d",    data_.string(),
        "--groups", kGroups,  "--out", (dir_->path() / "bad").string()};
    bool has_window = false;
    for (const auto& a : c.args) has_window |= a == "--start";
    if (!has_window) {
      for (const char* a : {"--start", "2026-11-01", "--end", "2026-11-02"}) args.push_back(a);
    }
    args.insert(args.end(), c.args.begin(), c.args.end());
    auto r = testing::run_flowscope(args);
    EXPECT_EQ(r.exit_code, 2) << c.args[0];
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
  }
  EXPECT_FALSE(fs::exists(dir_->path() / "bad"));
}

TEST_F(ReportCommand, DetailPerMatchingHost) {
  const fs::path patterns = dir_->path() / "labs.txt";
  std::ofstream(patterns) << "# the busiest clients\n10.0.0.1\n10.0.0.2/32\n\n";
  auto r = testing::run_flowscope({"report", "detail", "-d", data_.string(), "--patterns",
                                   patterns.string(), "--start", "2026-11-01", "--end",
                                   "2026-11-02", "--out", (dir_->path() / "detail").string(),
                                   "--format", "html,json", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const fs::path one = dir_->path() / "detail" / "labs" / "10.0.0.1" / "detail.json";
  ASSERT_TRUE(fs::exists(one)) << r.out;
  EXPECT_TRUE(fs::exists(dir_->path() / "detail" / "labs" / "10.0.0.2" / "detail.html"));
  const auto rep = nlohmann::json::parse(slurp(one));
  const auto services = table(rep, "Services");
  check_ranked(services, 0);
  const auto servers = table(rep, "Servers it talked to (as a client)");
  check_ranked(servers, 0);
  std::ofstream(patterns) << "10.0.0.300\n";
  auto bad =
      testing::run_flowscope({"report", "detail", "-d", data_.string(), "--patterns",
                              patterns.string(), "--start", "2026-11-01", "--end", "2026-11-02"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("labs.txt:1: \"10.0.0.300\" is not an address pattern"), std::string::npos)
      << bad.err;
}

TEST(ReportFormat, PercentileAndUnits) {
  std::vector<double> v;
  for (int i = 1; i <= 100; ++i) v.push_back(i);
  EXPECT_EQ(percentile95(v), 95);
  EXPECT_EQ(percentile95({7}), 7);
  EXPECT_EQ(percentile95({}), 0);
  EXPECT_EQ(percentile95({5, 1, 4, 2, 3, 10, 9, 8, 7, 6, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}),
            19);
  EXPECT_EQ(human_bytes(999), "999 B");
  EXPECT_EQ(human_bytes(1234567), "1.23 MB");
  EXPECT_EQ(human_rate(45600), "45.6 kb/s");
  EXPECT_EQ(with_commas(4211008), "4,211,008");
  EXPECT_EQ(with_commas(10388714), "10,388,714");
  EXPECT_EQ(with_commas(999), "999");
  EXPECT_EQ(with_commas(100000), "100,000");
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
}

}  // namespace
}  // namespace flowscope::report
