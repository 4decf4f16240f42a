// `flowscope import`, `flowscope store stats` and `flowscope store retention`, run as a user
// would: the built binary against a temporary data directory.
#include <sys/mount.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sched.h>
#include <unistd.h>

#include "store_test_support.h"
#include "test_support.h"

namespace flowscope::store {
namespace {

using flowscope::testing::run_flowscope;

TEST(StoreCommand, ImportStatsAndRetention) {
  testing::TempDir dir;
  const auto csv = dir.path() / "sessions.csv";
  {
    std::ofstream out(csv);
    out << "cln_addr,srv_addr,srv_port,start_time,cln_bytes\n";
    // Three hours, 10 sessions each, and one bad line.
    for (int hour = 0; hour < 3; ++hour) {
      for (int i = 0; i < 10; ++i) {
        out << "10.0.0." << i << ",192.0.2.1,443,2026-11-24T0" << hour << ":0" << i << ":00Z,100\n";
      }
    }
    out << "10.0.0.1,192.0.2.1,70000,2026-11-24T00:00:00Z,1\n";
  }
  const std::string data = (dir.path() / "data").string();
  auto imp = run_flowscope({"import", "-d", data, csv.string()});
  ASSERT_EQ(imp.exit_code, 0) << imp.err;
  EXPECT_NE(imp.out.find("imported 30 records, skipped 1 (bad_value 1)"), std::string::npos)
      << imp.out;
  EXPECT_NE(imp.out.find("sessions.csv:32:"), std::string::npos) << imp.out;

  auto stats = run_flowscope({"store", "stats", "-d", data, "--json"});
  ASSERT_EQ(stats.exit_code, 0) << stats.err;
  auto j = nlohmann::json::parse(stats.out);
  ASSERT_EQ(j["partitions"].size(), 3u);
  EXPECT_EQ(j["partitions"][0]["partition"], "2026-11-24T00");
  EXPECT_EQ(j["partitions"][0]["rows"], 10);
  EXPECT_EQ(j["partitions"][2]["last"], "2026-11-24T02:09:00Z");

  auto table = run_flowscope({"store", "stats", "-d", data});
  ASSERT_EQ(table.exit_code, 0);
  EXPECT_NE(table.out.find("total: 3"), std::string::npos) << table.out;

  auto ret = run_flowscope(
      {"store", "retention", "-d", data, "--keep", "2h", "--now", "2026-11-24T03:30:00Z"});
  ASSERT_EQ(ret.exit_code, 0) << ret.err;
  EXPECT_NE(ret.out.find("dropped 1 raw partitions"), std::string::npos) << ret.out;
  auto after = nlohmann::json::parse(run_flowscope({"store", "stats", "-d", data, "--json"}).out);
  EXPECT_EQ(after["partitions"].size(), 2u);

  auto bad = run_flowscope({"store", "retention", "-d", data, "--keep", "7x"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("use e.g. 7d"), std::string::npos) << bad.err;
  auto missing = run_flowscope({"store", "stats", "-d", (dir.path() / "nope").string()});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("does not exist"), std::string::npos) << missing.err;
}

TEST(StoreCommand, ImportsNfcapdThroughNfdump) {
  if (std::system("nfdump -V > /dev/null 2>&1") != 0) GTEST_SKIP() << "nfdump is not installed";
  testing::TempDir dir;
  const std::string data = (dir.path() / "data").string();
  // Written by nfcapd 1.7.1 from softflowd's NetFlow v5 export of two flows of one TCP session.
  const std::string file =
      std::string(FLOWSCOPE_SOURCE_DIR) + "/tests/store/data/nfcapd-softflowd-2flows";
  auto imp = run_flowscope({"import", "-d", data, file});
  ASSERT_EQ(imp.exit_code, 0) << imp.err;
  EXPECT_NE(imp.out.find("imported 2 records"), std::string::npos) << imp.out;
  auto j = nlohmann::json::parse(run_flowscope({"store", "stats", "-d", data, "--json"}).out);
  ASSERT_EQ(j["partitions"].size(), 1u);
  EXPECT_EQ(j["partitions"][0]["partition"], "2026-11-11T20");
  EXPECT_EQ(j["partitions"][0]["first"], "2026-11-11T20:01:11.806Z");
  EXPECT_EQ(j["partitions"][0]["rows"], 2);
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_sessions(const std::filesystem::path& path, int rows, int first_octet) {
  std::ofstream out(path);
  out << "cln_addr,srv_addr,srv_port,start_time,cln_bytes,srv_bytes,cln_packets\n";
  for (int i = 0; i < rows; ++i) {
    out << first_octet << '.' << (i >> 16 & 255) << '.' << (i >> 8 & 255) << '.' << (i & 255)
        << ",192.0.2." << (i % 200) << ',' << (1000 + i % 5000)
        << ",2026-11-24T00:" << (10 + i % 50) << ":00." << (i % 1000) << "Z," << i * 7 << ','
        << i * 13 << ',' << i % 97 << '\n';
  }
}

// A disk that fills up during an import: the import stops with an error naming the file and the
// fix, what was stored before stays readable and intact, and the WAL keeps only whole records
// (no torn tail to cut at the next open). The disk is a 2 MiB tmpfs mounted in a private mount
// namespace of a child process, so nothing outside the test sees it.
TEST(StoreCommand, FullDiskStopsTheImportAndKeepsWhatWasStored) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a small tmpfs needs root";
  testing::TempDir dir;
  const auto small = dir.path() / "small.csv";
  const auto big = dir.path() / "big.csv";
  write_sessions(small, 1000, 10);
  write_sessions(big, 400000, 11);
  const auto disk = dir.path() / "disk";
  std::filesystem::create_directories(disk);
  const auto out = dir.path() / "out";
  std::filesystem::create_directories(out);
  const std::string bin = FLOWSCOPE_BINARY;
  const std::string store = (disk / "store").string();
  const std::string o = out.string();
  const std::string script = bin + " import -d " + store + " " + small.string() + " >" + o +
                             "/imp1.out 2>" + o + "/imp1.err; echo $? >" + o + "/imp1.rc; " + bin +
                             " import -d " + store + " " + big.string() + " >" + o +
                             "/imp2.out 2>" + o + "/imp2.err; echo $? >" + o + "/imp2.rc; " + bin +
                             " store stats --json -d " + store + " >" + o + "/stats.out 2>" + o +
                             "/stats.err; echo $? >" + o + "/stats.rc";
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (::unshare(CLONE_NEWNS) != 0) ::_exit(77);
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) ::_exit(77);
    if (::mount("tmpfs", disk.c_str(), "tmpfs", 0, "size=2m") != 0) ::_exit(77);
    ::execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
    ::_exit(78);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77) GTEST_SKIP() << "cannot mount a tmpfs in a mount namespace here";
  ASSERT_EQ(WEXITSTATUS(status), 0);

  EXPECT_EQ(slurp(out / "imp1.rc"), "0\n") << slurp(out / "imp1.err");
  EXPECT_EQ(slurp(out / "imp2.rc"), "1\n");
  const std::string err = slurp(out / "imp2.err");
  EXPECT_NE(err.find("No space left on device"), std::string::npos) << err;
  EXPECT_NE(err.find(store), std::string::npos) << err;         // names the file
  EXPECT_NE(err.find("free space"), std::string::npos) << err;  // and the fix

  ASSERT_EQ(slurp(out / "stats.rc"), "0\n") << slurp(out / "stats.err");
  EXPECT_EQ(slurp(out / "stats.err").find("cut"), std::string::npos)
      << "the WAL was left with a torn record: " << slurp(out / "stats.err");
  auto j = nlohmann::json::parse(slurp(out / "stats.out"));
  std::uint64_t rows = j["wal"]["rows"].get<std::uint64_t>();
  for (const auto& p : j["partitions"]) rows += p["rows"].get<std::uint64_t>();
  EXPECT_GE(rows, 1000u);            // the first import, whole
  EXPECT_LT(rows, 1000u + 400000u);  // the disk did fill up
  EXPECT_TRUE(j["damaged"].empty());
}

TEST(StoreCommand, ConfigDrivesRollupsAndRetention) {
  testing::TempDir dir;
  const std::string data = (dir.path() / "data").string();
  const auto csv = dir.path() / "s.csv";
  std::ofstream(csv) << "srv_port,start_time,cln_bytes\n"
                        "443,2026-11-20T10:00:00Z,100\n"
                        "443,2026-11-24T10:00:00Z,200\n"
                        "53,2026-11-24T10:30:00Z,5\n";
  // The directory exists once a store was opened in it.
  std::filesystem::create_directories(std::filesystem::path(data) / "wal");
  auto set = run_flowscope({"store", "config", "-d", data, "--rollup", "by_port=srv_port", "--keep",
                            "raw=2d", "--keep", "1d=30d"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  EXPECT_NE(set.out.find("rollup by_port: srv_port"), std::string::npos) << set.out;
  EXPECT_NE(set.out.find("keep raw: 2d"), std::string::npos) << set.out;
  auto bad = run_flowscope({"store", "config", "-d", data, "--rollup", "x=srcaddr"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("\"srcaddr\" is not a stored session field"), std::string::npos)
      << bad.err;

  ASSERT_EQ(run_flowscope({"import", "-d", data, csv.string()}).exit_code, 0);
  auto j = nlohmann::json::parse(run_flowscope({"store", "stats", "-d", data, "--json"}).out);
  std::size_t rollup_partitions = 0;
  for (const auto& p : j["partitions"]) rollup_partitions += p["view"] == "by_port";
  EXPECT_EQ(rollup_partitions, 6u);  // 2 days x 3 levels

  auto ret = run_flowscope({"store", "retention", "-d", data, "--now", "2026-11-25T00:00:00Z"});
  ASSERT_EQ(ret.exit_code, 0) << ret.err;
  EXPECT_NE(ret.out.find("dropped 1 partitions (configured retention)"), std::string::npos)
      << ret.out;  // the raw hour of 2026-11-20; its rollups are kept longer
}

TEST(StoreCommand, HelpEndsWithExamples) {
  for (auto args : {std::vector<std::string>{"store", "stats", "--help"},
                    std::vector<std::string>{"store", "retention", "--help"},
                    std::vector<std::string>{"store", "config", "--help"},
                    std::vector<std::string>{"import", "--help"}}) {
    auto r = run_flowscope(args);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("Examples:\n  flowscope "), std::string::npos) << r.out;
  }
}

}  // namespace
}  // namespace flowscope::store
