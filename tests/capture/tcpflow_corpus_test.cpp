// Acceptance of `flowscope tcpflow` (issue F9): on every capture of corpus/tcp our files, their
// md5s and the DFXML per-flow attributes equal what Debian's tcpflow 1.6.1 produced (the truth
// files); and, when /usr/bin/tcpflow is installed, both programs are run on freshly generated
// captures (retransmissions, reordering, gaps, gzip HTTP, IPv6, VLAN, repeated 4-tuples,
// wraparound) and must agree.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include "capture/tcpflow/tcp_pcap_builder.h"
#include "capture/tcpflow_test_support.h"

namespace flowscope::testing {
namespace {

namespace fs = std::filesystem;
using capture::tcpflow::TcpFrameSpec;
using capture::tcpflow::TcpPcapFile;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
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

void check_corpus(bool http) {
  const auto captures = corpus_captures();
  if (captures.empty()) GTEST_SKIP() << "corpus not found at " << tcp_corpus_dir() / "tcp";
  const std::string suffix = http ? ".tcpflow_http" : ".tcpflow";
  const fs::path base = fresh_dir(http ? "corpus-http" : "corpus-plain");
  for (const auto& cap : captures) {
    SCOPED_TRACE(cap.filename().string());
    const fs::path truth = cap.parent_path() / "truth" / (cap.filename().string() + suffix);
    const fs::path out = base / cap.filename();
    std::vector<std::string> args = {"-r",         cap.string(), "-o",
                                     out.string(), "-X",         (out / "report.xml").string()};
    if (http) {
      args.push_back("-e");
      args.push_back("http");
    }
    ASSERT_EQ(run_our_tcpflow(args), 0);
    EXPECT_EQ(manifest(out), slurp(truth.string() + ".csv"));
    const auto expected = dfxml_flows(truth.string() + ".xml");
    const auto actual = dfxml_flows(out / "report.xml");
    EXPECT_EQ(describe_differences(expected, actual), "");
    EXPECT_TRUE(dfxml_closed(out / "report.xml"));
  }
  fs::remove_all(base);
}

TEST(TcpflowCorpus, FilesAndReportMatchTcpflow161) { check_corpus(false); }
TEST(TcpflowCorpus, HttpFilesAndReportMatchTcpflow161) { check_corpus(true); }

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
      : file_(file), c_(client), t_(t0) {
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
    file_.write(t_, frame_);
    t_ += 1000;
  }
  void send(TcpFrameSpec& side, std::uint8_t flags, const std::string& payload) {
    TcpFrameSpec spec = side;
    spec.flags = flags;
    const auto b = bytes(payload);
    capture::tcpflow::build_tcp_frame(spec, b, frame_);
    file_.write(t_, frame_);
    t_ += 1000;
  }
  TcpPcapFile& file_;
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
  fs::remove_all(dir);
}

}  // namespace
}  // namespace flowscope::testing
