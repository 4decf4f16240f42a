// The probe end to end: `flowscope gen traffic` makes real UDP, TCP and FTP traffic on loopback
// and writes the sessions a probe should see (--expect); `flowscope capture -i lo` meters them
// at the same time. Every expected session must be there with the same client and server, the
// exact UDP datagram counts, the application bytes plus per-packet headers, an established TCP
// outcome, and the FTP data session tagged with its control session. The scenario runs on its
// own loopback address, 127.0.0.77, and the probe's BPF filter keeps only that host, so the
// traffic of tests running in parallel never reaches (and never overflows) the probe's buffer.
// Needs root (capture on lo, FTP on port 21).
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <unistd.h>

#include "test_support.h"

namespace flowscope {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ProbeEndToEnd, CaptureOnLoopbackSeesWhatGenTrafficMade) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: live capture on lo and an FTP server on 21";
  const fs::path work =
      fs::temp_directory_path() / ("flowscope_probe_e2e_" + std::to_string(::getpid()));
  fs::remove_all(work);
  fs::create_directories(work);
  std::ofstream(work / "scenario.toml") << R"(name = "probe e2e"
duration = "20s"
address = "127.0.0.77"
[[udp]]
size = 200
reply_size = 50
count = 10
rate = 50
[[tcp]]
size = 5000
count = 3
rate = 20
sends_per_connection = 2
[[ftp]]
mode = "pasv"
port = 21
size = 30000
count = 1
)";
  // The probe, in the background, stopped by PID.
  const pid_t probe = ::fork();
  if (probe == 0) {
    const int out = ::open((work / "sessions.json").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = ::open((work / "probe.err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::execl(FLOWSCOPE_BINARY, "flowscope", "capture", "-i", "lo", "--format", "json", "--fields",
            "session_id,proto,cln_addr,cln_port,srv_addr,srv_port,cln_packets,srv_packets,"
            "cln_bytes,srv_bytes,ftp_ctrl_id,tcp_outcome",
            "-f", "host 127.0.0.77", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (slurp(work / "probe.err").find("listening on lo") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  const std::string started = slurp(work / "probe.err");
  if (started.find("listening on lo") == std::string::npos) {
    ::kill(probe, SIGKILL);
    ::waitpid(probe, nullptr, 0);
    FAIL() << "the probe did not start: " << started;
  }
  auto gen =
      testing::run_flowscope({"gen", "traffic", "-q", "--expect", (work / "expect.json").string(),
                              (work / "scenario.toml").string()});
  // The probe reads the ring buffer on its own clock: give it a moment to meter the last packets
  // (a loaded machine running tests in parallel delays it) before SIGTERM ends the capture.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ::kill(probe, SIGTERM);  // flushes the open sessions and exits
  int status = 0;
  ::waitpid(probe, &status, 0);
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << slurp(work / "probe.err");

  // "proto cln:port srv:port" -> session. UDP sessions are filed under both orientations: their
  // client is decided by the F4 rule (no SYN: the higher port is the client), which need not
  // be the side gen made the client.
  // A simultaneous close (both FINs cross, as gen's client and server threads in one process
  // can do) is one session too: the meter lets a session linger after both FINs
  // (MeterConfig::fin_timeout), so the last ACKs join it.
  std::map<std::string, nlohmann::json> ours;
  std::istringstream in(slurp(work / "sessions.json"));
  for (std::string line; std::getline(in, line);) {
    auto s = nlohmann::json::parse(line);
    const std::string cln =
        s["cln_addr"].get<std::string>() + ":" + std::to_string(s["cln_port"].get<int>());
    const std::string srv =
        s["srv_addr"].get<std::string>() + ":" + std::to_string(s["srv_port"].get<int>());
    const std::string proto = s["proto"];
    const std::string key = proto + " " + cln + " " + srv;
    if (auto it = ours.find(key); it != ours.end()) {
      ADD_FAILURE() << "a second session on " << key << ": " << s.dump() << " beside "
                    << it->second.dump();
      continue;
    }
    ours[key] = s;
    if (proto == "udp") {
      auto r = s;
      for (const char* f : {"addr", "port", "packets", "bytes"}) {
        std::swap(r[std::string("cln_") + f], r[std::string("srv_") + f]);
      }
      ours.emplace(proto + " " + srv + " " + cln, r);
    }
  }
  // The probe's summary (packets, kernel drops, sessions) explains any difference below.
  SCOPED_TRACE("probe: " + slurp(work / "probe.err"));
  std::istringstream expect(slurp(work / "expect.json"));
  int checked = 0;
  std::uint64_t control_id = 0;
  std::vector<std::uint64_t> data_ctrl;
  for (std::string line; std::getline(expect, line);) {
    const auto e = nlohmann::json::parse(line);
    const int proto = e["PROTO"];
    const std::string key =
        std::string(proto == 17 ? "udp" : "tcp") + " " + e["CLNIP"].get<std::string>() + ":" +
        std::to_string(e["CLNPORT"].get<int>()) + " " + e["SRVIP"].get<std::string>() + ":" +
        std::to_string(e["SRVPORT"].get<int>());
    SCOPED_TRACE(key);
    auto it = ours.find(key);
    ASSERT_NE(it, ours.end()) << "the probe has no such session";
    const auto& s = it->second;
    const std::uint64_t cp = s["cln_packets"], sp = s["srv_packets"];
    const std::uint64_t cb = s["cln_bytes"], sb = s["srv_bytes"];
    const std::uint64_t cpay = e["CLNPAYLOAD"], spay = e["SRVPAYLOAD"];
    if (proto == 17) {
      EXPECT_EQ(cp, e["CLNPKTS"].get<std::uint64_t>());
      EXPECT_EQ(sp, e["SRVPKTS"].get<std::uint64_t>());
      EXPECT_EQ(cb, cpay + 28 * cp);  // IPv4 + UDP headers
      EXPECT_EQ(sb, spay + 28 * sp);
    } else {
      EXPECT_EQ(s["tcp_outcome"], 1) << "established";
      // IPv4 + TCP headers with options: 40 to 60 bytes a segment.
      EXPECT_GE(cb, cpay + 40 * cp);
      EXPECT_LE(cb, cpay + 60 * cp);
      EXPECT_GE(sb, spay + 40 * sp);
      EXPECT_LE(sb, spay + 60 * sp);
      if (e["role"] == "control") control_id = s["session_id"];
      if (e["role"] == "data") data_ctrl.push_back(s.value("ftp_ctrl_id", std::uint64_t{0}));
    }
    ++checked;
  }
  EXPECT_EQ(checked, 5);  // a UDP exchange, two TCP connections, FTP control and data
  ASSERT_EQ(data_ctrl.size(), 1u);
  EXPECT_NE(control_id, 0u);
  EXPECT_EQ(data_ctrl[0], control_id) << "the data session carries its control session's id";
  fs::remove_all(work);
}

}  // namespace
}  // namespace flowscope
