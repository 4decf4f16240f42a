// Acceptance of `flowscope tcpflow` (issue F9): on every capture of corpus/tcp our files, their
// md5s and the DFXML per-flow attributes equal what Debian's tcpflow 1.6.1 produced (the truth
// files); and, when /usr/bin/tcpflow is installed, both programs are run on freshly generated
// captures (retransmissions, reordering, gaps, gzip HTTP, IPv6, VLAN, repeated 4-tuples,
// wraparound) and must agree.
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>
#include <zlib.h>

#include "capture/tcpflow/tcp_pcap_builder.h"
#include "capture/tcpflow_test_support.h"

namespace flowscope::testing {
namespace {

namespace fs = std::filesystem;
using capture::tcpflow::TcpFrameSpec;
using capture::tcpflow::TcpPcapFile;

// Removes a test's directory unless FLOWSCOPE_KEEP_TEST_OUTPUT is set (to inspect a failure).
void cleanup(const fs::path& dir) {
  if (std::getenv("FLOWSCOPE_KEEP_TEST_OUTPUT") == nullptr) fs::remove_all(dir);
}

fs::path fresh_dir(const std::string& name) {
  const fs::path d =
      fs::temp_directory_path() / ("flowscope-tcpflow-" + std::to_string(getpid()) + "-" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::vector<fs::path> corpus_captures() {
  std::vector<fs::path> out;
  const fs::path dir = tcp_corpus_dir() / "tcp";
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const auto ext = e.path().extension();
    if (ext == ".pcap" || ext == ".pcapng") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Runs our tcpflow over every corpus capture (with -e http when `http`) and returns what
// differs from tcpflow 1.6.1's truth: the files (name, size, md5), the report's flows, an
// unclosed report, a failed run; empty when everything matches.
std::string corpus_differences(const std::vector<fs::path>& captures, bool http) {
  const std::string suffix = http ? ".tcpflow_http" : ".tcpflow";
  const fs::path base = fresh_dir(http ? "corpus-http" : "corpus-plain");
  std::string differences;
  for (const auto& cap : captures) {
    const std::string name = cap.filename().string();
    const fs::path truth = cap.parent_path() / "truth" / (name + suffix);
    const fs::path out = base / cap.filename();
    std::vector<std::string> args = {"-r",         cap.string(), "-o",
                                     out.string(), "-X",         (out / "report.xml").string()};
    if (http) {
      args.push_back("-e");
      args.push_back("http");
    }
    if (const int rc = run_our_tcpflow(args); rc != 0) {
      differences += name + ": exit " + std::to_string(rc) + "\n";
      continue;
    }
    const std::string files = manifest(out), want = slurp(truth.string() + ".csv");
    if (files != want) differences += name + ": files\n" + files + "  want\n" + want;
    const std::string flows =
        describe_differences(dfxml_flows(truth.string() + ".xml"), dfxml_flows(out / "report.xml"));
    if (!flows.empty()) differences += name + ": report\n" + flows + "\n";
    if (!dfxml_closed(out / "report.xml")) differences += name + ": report not closed\n";
  }
  cleanup(base);
  return differences;
}

TEST(TcpflowCorpus, FilesAndReportMatchTcpflow161) {
  const auto captures = corpus_captures();
  if (captures.empty()) GTEST_SKIP() << "corpus not found at " << tcp_corpus_dir() / "tcp";
  EXPECT_EQ(corpus_differences(captures, false), "");
}

TEST(TcpflowCorpus, HttpFilesAndReportMatchTcpflow161) {
  const auto captures = corpus_captures();
  if (captures.empty()) GTEST_SKIP() << "corpus not found at " << tcp_corpus_dir() / "tcp";
  EXPECT_EQ(corpus_differences(captures, true), "");
}

// ---- generated captures, compared with the installed tcpflow --------------------------------

std::vector<std::uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }

std::string gzip(const std::string& in) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(in.size() + 128, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// Writes one TCP connection's packets with a few scripted mishaps.
class Conversation {
 public:
  Conversation(TcpPcapFile& file, TcpFrameSpec client, std::int64_t t0)
      : file_(&file), c_(client), t_(t0) {
    s_ = c_;
    std::swap(s_.src, s_.dst);
    std::swap(s_.sport, s_.dport);
  }
  void handshake(std::uint32_t cisn, std::uint32_t sisn) {
    c_.seq = cisn;
    s_.seq = sisn;
    send(c_, kSyn, {});
    c_.seq++;
    send(s_, kSyn | kAck, {});
    s_.seq++;
    send(c_, kAck, {});
  }
  // Sends `data` from the client (to_server) or server in segments of `mss`, applying the mishap
  // to segment number `which`.
  enum class Mishap { None, Retransmit, Swap, Drop, OverlapRetransmit };
  void send_data(bool to_server, const std::string& data, std::size_t mss, Mishap m = Mishap::None,
                 std::size_t which = 1) {
    TcpFrameSpec& side = to_server ? c_ : s_;
    std::vector<std::pair<std::uint32_t, std::string>> segs;
    for (std::size_t at = 0; at < data.size(); at += mss) {
      segs.emplace_back(side.seq + static_cast<std::uint32_t>(at), data.substr(at, mss));
    }
    side.seq += static_cast<std::uint32_t>(data.size());
    if (m == Mishap::Swap && which + 1 < segs.size()) std::swap(segs[which], segs[which + 1]);
    for (std::size_t i = 0; i < segs.size(); ++i) {
      if (m == Mishap::Drop && i == which) continue;
      emit(side, segs[i].first, segs[i].second);
      if (m == Mishap::Retransmit && i == which) emit(side, segs[i].first, segs[i].second);
      if (m == Mishap::OverlapRetransmit && i == which && i > 0) {
        emit(side, segs[i].first - 5,
             segs[i - 1].second.substr(segs[i - 1].second.size() - 5) + segs[i].second);
      }
    }
  }
  void fin(bool from_client) {
    TcpFrameSpec& side = from_client ? c_ : s_;
    send(side, kFin | kAck, {});
    side.seq++;
  }
  void rst(bool from_client) { send(from_client ? c_ : s_, kRst, {}); }
  // Later packets go to another capture file (a flow that continues in the next file).
  void switch_to(TcpPcapFile& file) { file_ = &file; }

 private:
  static constexpr std::uint8_t kSyn = capture::tcpflow::kTcpSyn;
  static constexpr std::uint8_t kAck = capture::tcpflow::kTcpAck;
  static constexpr std::uint8_t kFin = capture::tcpflow::kTcpFin;
  static constexpr std::uint8_t kRst = capture::tcpflow::kTcpRst;
  void emit(TcpFrameSpec& side, std::uint32_t seq, const std::string& payload) {
    TcpFrameSpec spec = side;
    spec.seq = seq;
    spec.flags = kAck | capture::tcpflow::kTcpPsh;
    const auto b = bytes(payload);
    capture::tcpflow::build_tcp_frame(spec, b, frame_);
    file_->write(t_, frame_);
    t_ += 1000;
  }
  void send(TcpFrameSpec& side, std::uint8_t flags, const std::string& payload) {
    TcpFrameSpec spec = side;
    spec.flags = flags;
    const auto b = bytes(payload);
    capture::tcpflow::build_tcp_frame(spec, b, frame_);
    file_->write(t_, frame_);
    t_ += 1000;
  }
  TcpPcapFile* file_;
  TcpFrameSpec c_;
  TcpFrameSpec s_;
  std::int64_t t_;
  std::vector<std::uint8_t> frame_;
};

TcpFrameSpec endpoint(int host, std::uint16_t sport, bool v6 = false, int vlan = -1) {
  TcpFrameSpec s;
  s.ipv6 = v6;
  if (v6) {
    s.src = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
             0,    0,    0,    0,    0, 0, 0, static_cast<std::uint8_t>(host)};
    s.dst = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x80};
  } else {
    s.src = {192, 168, 1, static_cast<std::uint8_t>(host)};
    s.dst = {10, 0, 0, 80};
  }
  s.sport = sport;
  s.dport = 80;
  s.vlan_tci = vlan;
  return s;
}

std::string http_response(const std::string& body, bool gzipped, bool chunked,
                          const std::string& type) {
  std::string payload = gzipped ? gzip(body) : body;
  std::string r = "HTTP/1.1 200 OK\r\nContent-Type: " + type + "\r\n";
  if (gzipped) r += "Content-Encoding: gzip\r\n";
  if (chunked) {
    r += "Transfer-Encoding: chunked\r\n\r\n";
    for (std::size_t at = 0; at < payload.size(); at += 700) {
      const std::string part = payload.substr(at, 700);
      char hex[16];
      std::snprintf(hex, sizeof hex, "%zx", part.size());
      r += std::string(hex) + "\r\n" + part + "\r\n";
    }
    r += "0\r\n\r\n";
  } else {
    r += "Content-Length: " + std::to_string(payload.size()) + "\r\n\r\n" + payload;
  }
  return r;
}

std::string text_body(int n, int seed) {
  std::string s;
  for (int i = 0; i < n; ++i) s += "line " + std::to_string(i * seed) + " of the generated body\n";
  return s;
}

void write_generated(const fs::path& path) {
  TcpPcapFile file(path.string());
  ASSERT_TRUE(file.ok());
  std::int64_t t = 1700000000LL * 1000000;
  const std::string get = "GET /index.html HTTP/1.1\r\nHost: example\r\n\r\n";
  using M = Conversation::Mishap;
  {  // retransmission and reordering, plain HTTP
    Conversation c(file, endpoint(2, 40001), t);
    c.handshake(1000, 5000);
    c.send_data(true, get, 1460);
    c.send_data(false, http_response(text_body(300, 3), false, false, "text/html"), 1400,
                M::Retransmit, 2);
    c.send_data(true, get, 1460);
    c.send_data(false, http_response(text_body(200, 7), false, false, "text/plain"), 1000, M::Swap,
                1);
    c.fin(true);
    c.fin(false);
  }
  {  // gzip HTTP, chunked, with an overlapping retransmission
    Conversation c(file, endpoint(3, 40002), t + 100000);
    c.handshake(0xfffff000u, 77);  // client sequence numbers wrap
    c.send_data(true, get, 1460);
    c.send_data(false, http_response(text_body(900, 5), true, true, "text/html; charset=utf-8"),
                1300, M::OverlapRetransmit, 1);
    c.fin(false);
    c.fin(true);
  }
  {  // IPv6, one missing segment (zero-filled)
    Conversation c(file, endpoint(4, 40003, true), t + 200000);
    c.handshake(3000, 9000);
    c.send_data(true, get, 1460);
    c.send_data(false, http_response(text_body(400, 11), false, false, "application/json"), 1200,
                M::Drop, 2);
    c.fin(true);
    c.fin(false);
  }
  {  // VLAN-tagged, ended by RST
    Conversation c(file, endpoint(5, 40004, false, 0x2064), t + 300000);
    c.handshake(4000, 8000);
    c.send_data(true, get, 1460);
    c.send_data(false, http_response(text_body(100, 13), true, false, "text/css"), 1400);
    c.rst(true);
  }
  {  // the same 4-tuple twice (connection counter), second time without a SYN
    Conversation a(file, endpoint(6, 40005), t + 400000);
    a.handshake(100, 200);
    a.send_data(true, "first connection\n", 1460);
    a.fin(true);
    a.fin(false);
    Conversation b(file, endpoint(6, 40005), t + 500000);
    b.send_data(true, "second connection, no handshake seen\n", 10, M::Swap, 0);
  }
}

TEST(TcpflowLive, AgreesWithInstalledTcpflowOnGeneratedCaptures) {
  const std::string tcpflow = "/usr/bin/tcpflow";
  if (access(tcpflow.c_str(), X_OK) != 0) GTEST_SKIP() << "tcpflow not installed at " << tcpflow;
  const fs::path dir = fresh_dir("live");
  const fs::path pcap = dir / "generated.pcap";
  write_generated(pcap);
  for (const bool http : {false, true}) {
    SCOPED_TRACE(http ? "-e http" : "plain");
    const fs::path theirs = dir / (http ? "theirs-http" : "theirs");
    const fs::path ours = dir / (http ? "ours-http" : "ours");
    std::vector<std::string> common = {"-r", pcap.string()};
    if (http) {
      common.push_back("-e");
      common.push_back("http");
    }
    auto with_out = [&](const fs::path& out) {
      auto a = common;
      for (const auto* s : {"-o"}) a.push_back(s);
      a.push_back(out.string());
      a.push_back("-X");
      a.push_back((out / "report.xml").string());
      return a;
    };
    ASSERT_EQ(run_binary(tcpflow, with_out(theirs), 60), 0);
    ASSERT_EQ(run_our_tcpflow(with_out(ours)), 0);
    const std::string expected = manifest(theirs);
    EXPECT_EQ(manifest(ours), expected);
    // The capture exercises what it claims: counters, VLAN, IPv6 and HTTP bodies appear.
    EXPECT_NE(expected.find("c1,"), std::string::npos);
    EXPECT_NE(expected.find("--8292"), std::string::npos);
    EXPECT_NE(expected.find("2001:db8::4.40003"), std::string::npos);
    if (http) {
      EXPECT_NE(expected.find("-HTTPBODY-001.html"), std::string::npos);
    }
    EXPECT_EQ(
        describe_differences(dfxml_flows(theirs / "report.xml"), dfxml_flows(ours / "report.xml")),
        "");
  }
  cleanup(dir);
}

// Option sets whose files (and console output) must equal tcpflow's.
TEST(TcpflowLive, OptionsAgreeWithInstalledTcpflow) {
  const std::string tcpflow = "/usr/bin/tcpflow";
  if (access(tcpflow.c_str(), X_OK) != 0) GTEST_SKIP() << "tcpflow not installed at " << tcpflow;
  const fs::path dir = fresh_dir("options");
  const fs::path pcap = dir / "generated.pcap";
  write_generated(pcap);
  const std::vector<std::vector<std::string>> option_sets = {
      {"-Fk"},
      {"-Fm"},
      {"-FT"},
      {"-Ft"},
      {"-Fc"},
      {"-T", "%N/%A-%a_%B-%b_%t_%#_%V%v%%"},
      {"-b", "700"},
      {"-I"},
      {"-e", "http", "-Z"},
      {"-e", "md5"},
      {"-FX"},
      {"-m", "1000"},
      {"-c"},
      {"-C", "-D"},
      {"-c", "-g"},
      {"-c", "-s"},
      {"-c", "-b", "100"},
      {"-C", "-0"},
      {"port", "40001"},
      {"-f", "1"},
      {"-w", "RUN/unprocessed.pcap", "port", "40003", "or", "port", "40004"},
  };
  int index = 0;
  for (const auto& extra : option_sets) {
    std::string label;
    for (const auto& e : extra) label += e + " ";
    SCOPED_TRACE(label);
    const fs::path theirs = dir / ("theirs" + std::to_string(index));
    const fs::path ours = dir / ("ours" + std::to_string(index));
    ++index;
    // Both write into the same directory name (console output prints it), then it is moved.
    const fs::path run = dir / "run";
    auto args_for = [&](const fs::path& report) {
      std::vector<std::string> a = {"-r", pcap.string(), "-o", run.string(), "-X", report.string()};
      for (const auto& e : extra) {
        a.push_back(e.rfind("RUN/", 0) == 0 ? (run / e.substr(4)).string() : e);
      }
      return a;
    };
    ASSERT_EQ(run_binary(tcpflow, args_for(theirs.string() + ".xml"), 60, theirs.string() + ".out"),
              0);
    if (fs::exists(run)) fs::rename(run, theirs);
    ASSERT_EQ(run_our_tcpflow(args_for(ours.string() + ".xml"), ours.string() + ".out"), 0);
    if (fs::exists(run)) fs::rename(run, ours);
    EXPECT_EQ(manifest(ours), manifest(theirs));
    EXPECT_EQ(slurp(ours.string() + ".out"), slurp(theirs.string() + ".out"));
    EXPECT_EQ(describe_differences(dfxml_flows(theirs.string() + ".xml"),
                                   dfxml_flows(ours.string() + ".xml")),
              "");
  }
  cleanup(dir);
}

// -R: a flow started in the -r file continues in the -R file; a flow that starts in the -R
// file is ignored.
TEST(TcpflowLive, FlowsContinueIntoFinishFiles) {
  const std::string tcpflow = "/usr/bin/tcpflow";
  if (access(tcpflow.c_str(), X_OK) != 0) GTEST_SKIP() << "tcpflow not installed at " << tcpflow;
  const fs::path dir = fresh_dir("finish");
  {
    TcpPcapFile first((dir / "first.pcap").string());
    TcpPcapFile second((dir / "second.pcap").string());
    std::int64_t t = 1700000000LL * 1000000;
    Conversation a(first, endpoint(7, 41000), t);
    a.handshake(10, 20);
    a.send_data(true, "GET /a HTTP/1.1\r\n\r\n", 1460);
    a.send_data(false, http_response(text_body(50, 3), false, false, "text/html"), 900);
    a.switch_to(second);
    a.send_data(false, http_response(text_body(80, 5), false, false, "text/plain"), 900);
    a.fin(false);
    a.fin(true);
    Conversation b(second, endpoint(8, 41001), t + 1000000);
    b.handshake(30, 40);
    b.send_data(true, "GET /b HTTP/1.1\r\n\r\n", 1460);
  }
  auto args_for = [&](const fs::path& out) {
    return std::vector<std::string>{"-r", (dir / "first.pcap").string(),
                                    "-R", (dir / "second.pcap").string(),
                                    "-o", out.string(),
                                    "-e", "http"};
  };
  ASSERT_EQ(run_binary(tcpflow, args_for(dir / "theirs"), 60), 0);
  ASSERT_EQ(run_our_tcpflow(args_for(dir / "ours")), 0);
  const std::string expected = manifest(dir / "theirs");
  EXPECT_EQ(manifest(dir / "ours"), expected);
  EXPECT_NE(expected.find("-HTTPBODY-002.txt"), std::string::npos);  // from the -R file
  EXPECT_EQ(expected.find("41001"), std::string::npos);              // not started by -R
  cleanup(dir);
}

// SIGTERM during a run: the flows seen so far are written and the report is a closed document.
// Runs the build's bin/tcpflow link, so it also checks the argv[0] dispatch.
TEST(TcpflowSignals, ReportIsClosedWhenInterrupted) {
  const fs::path binary = fs::path(FLOWSCOPE_BINARY).parent_path() / "tcpflow";
  ASSERT_TRUE(fs::exists(binary)) << binary;
  const fs::path dir = fresh_dir("signal");
  const fs::path pcap = dir / "generated.pcap";
  write_generated(pcap);
  const std::string data = slurp(pcap);
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[0], 0);
    close(fds[1]);
    const std::string out = (dir / "out").string();
    execl(binary.c_str(), "tcpflow", "-r", "-", "-o", out.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[0]);
  // The whole capture, but keep the pipe open: tcpflow waits for more packets.
  ASSERT_EQ(write(fds[1], data.data(), data.size()), static_cast<ssize_t>(data.size()));
  const fs::path first = dir / "out" / "192.168.001.002.40001-010.000.000.080.00080";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!fs::exists(first) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  ASSERT_TRUE(fs::exists(first));
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  close(fds[1]);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_TRUE(dfxml_closed(dir / "out" / "report.xml"));
  EXPECT_FALSE(dfxml_flows(dir / "out" / "report.xml").empty());
  cleanup(dir);
}

}  // namespace
}  // namespace flowscope::testing
