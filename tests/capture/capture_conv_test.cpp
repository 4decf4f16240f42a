// Acceptance (issue 5): on the TCP and mixed captures of the corpus, the packets and bytes that
// `flowscope capture` meters per 5-tuple equal tshark's conversation statistics
// (`-z conv,tcp -z conv,udp`), run here on the same file. Bytes are frame bytes (--bytes
// frame), which is what tshark counts; tshark prints large values rounded to kB/MB, which are
// compared to within that unit.
// GCC 12 at -O1 with the sanitizers (make asan) reports -Wmaybe-uninitialized inside
// libstdc++'s std::regex, which this test uses; a false positive that Release does not show.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_support.h"

namespace flowscope {
namespace {

namespace fs = std::filesystem;

fs::path corpus_tcp() { return testing::corpus_root() / "tcp"; }

// Per direction: what the lower endpoint (as text) sent, then the higher.
struct Totals {
  std::uint64_t frames[2] = {0, 0};
  std::uint64_t bytes[2] = {0, 0};
  std::uint64_t unit[2] = {1, 1};  // tshark's rounding unit of bytes[i]
};
// proto "tcp"/"udp", lower endpoint, higher endpoint ("addr:port").
using ConvKey = std::tuple<std::string, std::string, std::string>;

using testing::run_shell;

void add(std::map<ConvKey, Totals>& m, const std::string& proto, const std::string& a,
         const std::string& b, std::uint64_t fa, std::uint64_t ba, std::uint64_t ua,
         std::uint64_t fb, std::uint64_t bb, std::uint64_t ub) {
  const bool swap = b < a;
  Totals& t = m[{proto, swap ? b : a, swap ? a : b}];
  const int ia = swap ? 1 : 0;
  t.frames[ia] += fa;
  t.bytes[ia] += ba;
  t.unit[ia] = std::max(t.unit[ia], ua);
  t.frames[1 - ia] += fb;
  t.bytes[1 - ia] += bb;
  t.unit[1 - ia] = std::max(t.unit[1 - ia], ub);
}

std::uint64_t unit_of(const std::string& u) {
  if (u == "kB") return 1000;
  if (u == "MB") return 1000000;
  return 1;
}

std::map<ConvKey, Totals> tshark_conversations(const fs::path& file) {
  const std::string out = run_shell("/usr/bin/tshark -r '" + file.string() +
                                    "' -q -n -z conv,tcp -z conv,udp 2>/dev/null");
  std::map<ConvKey, Totals> m;
  // "A:port <-> B:port  <-frames bytes unit  ->frames bytes unit  total ..."; "<-" is B to A.
  static const std::regex line(
      R"(^(\S+)\s+<->\s+(\S+)\s+(\d+)\s+(\d+)\s+(\w+)\s+(\d+)\s+(\d+)\s+(\w+)\s+\d+)");
  std::string proto;
  std::istringstream in(out);
  for (std::string text; std::getline(in, text);) {
    if (text.starts_with("TCP Conversations")) proto = "tcp";
    if (text.starts_with("UDP Conversations")) proto = "udp";
    std::smatch m2;
    if (!std::regex_search(text, m2, line)) continue;
    const std::uint64_t u_ba = unit_of(m2[5]);
    const std::uint64_t u_ab = unit_of(m2[8]);
    add(m, proto, m2[1], m2[2], std::stoull(m2[6]), std::stoull(m2[7]) * u_ab, u_ab,
        std::stoull(m2[3]), std::stoull(m2[4]) * u_ba, u_ba);
  }
  return m;
}

std::map<ConvKey, Totals> our_sessions(const fs::path& file) {
  auto r = testing::run_flowscope(
      {"capture", "-r", file.string(), "--bytes", "frame", "-q", "--fields",
       "proto,cln_addr,cln_port,srv_addr,srv_port,cln_packets,cln_bytes,srv_packets,srv_bytes"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::map<ConvKey, Totals> m;
  std::istringstream in(r.out);
  std::string text;
  std::getline(in, text);  // header
  while (std::getline(in, text)) {
    std::vector<std::string> v;
    std::stringstream row(text);
    for (std::string cell; std::getline(row, cell, ',');) v.push_back(cell);
    if (v.size() != 9 || (v[0] != "tcp" && v[0] != "udp")) continue;
    add(m, v[0], v[1] + ":" + v[2], v[3] + ":" + v[4], std::stoull(v[5]), std::stoull(v[6]), 1,
        std::stoull(v[7]), std::stoull(v[8]), 1);
  }
  return m;
}

TEST(CaptureConversations, PacketsAndBytesPerFiveTupleEqualTshark) {
  if (!fs::exists("/usr/bin/tshark")) GTEST_SKIP() << "tshark is not installed at /usr/bin/tshark";
  const fs::path dir = corpus_tcp();
  if (!fs::is_directory(dir)) GTEST_SKIP() << "corpus not found at " << dir;
  // Where tshark and a flow meter legitimately differ:
  const std::map<std::string, std::string> kExcluded = {
      // Captured with a 40-byte snap length: tshark's TCP tap needs whole TCP headers and lists
      // no conversation; the meter has the addresses and ports and meters every packet.
      {"tf_simson.pcap", "snap length 40: tshark lists no TCP conversation"},
  };
  int files = 0, conversations = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (!name.ends_with(".pcap") && !name.ends_with(".pcapng")) continue;
    if (kExcluded.contains(name)) continue;
    SCOPED_TRACE(name);
    const auto truth = tshark_conversations(entry.path());
    const auto ours = our_sessions(entry.path());
    ++files;
    for (const auto& [key, t] : truth) {
      const auto& [proto, a, b] = key;
      auto it = ours.find(key);
      if (it == ours.end()) {
        ADD_FAILURE() << proto << " " << a << " <-> " << b << " is missing";
        continue;
      }
      ++conversations;
      for (int dir_idx = 0; dir_idx < 2; ++dir_idx) {
        EXPECT_EQ(it->second.frames[dir_idx], t.frames[dir_idx])
            << proto << " " << a << " <-> " << b << " direction " << dir_idx;
        const std::uint64_t unit = t.unit[dir_idx];
        const std::uint64_t mine = it->second.bytes[dir_idx];
        if (unit == 1) {
          EXPECT_EQ(mine, t.bytes[dir_idx]) << proto << " " << a << " <-> " << b;
        } else {  // tshark rounded to kB/MB
          EXPECT_LT(mine > t.bytes[dir_idx] ? mine - t.bytes[dir_idx] : t.bytes[dir_idx] - mine,
                    unit)
              << proto << " " << a << " <-> " << b;
        }
      }
    }
    for (const auto& [key, t] : ours) {
      if (!truth.contains(key)) {
        ADD_FAILURE() << std::get<0>(key) << " " << std::get<1>(key) << " <-> " << std::get<2>(key)
                      << " is not a tshark conversation";
      }
    }
  }
  EXPECT_GT(files, 30);
  EXPECT_GT(conversations, 100);
}

}  // namespace
}  // namespace flowscope
