// `flowscope gen flows` end to end: determinism, our decoder and tshark on what it wrote, and a
// real UDP send on loopback. Runs the built binary (tests/run_command.cpp).
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include "decode/corpus_support.h"
#include "session/stitcher.h"

#include "gen/flow_model.h"
#include "test_support.h"

namespace flowscope::testing {
namespace {

namespace fs = std::filesystem;

const char* const kFormats[] = {"v5", "v9", "ipfix", "sflow"};

fs::path temp_file(const std::string& name) {
  const fs::path dir =
      fs::temp_directory_path() / ("flowscope_gen_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir / name;
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

CommandResult gen(const std::string& format, const fs::path& pcap, std::vector<std::string> extra) {
  std::vector<std::string> args = {"gen",    "flows",       "--format", format,
                                   "--pcap", pcap.string(), "-q"};
  args.insert(args.end(), extra.begin(), extra.end());
  return run_flowscope(args);
}

TEST(GenFlows, SameSeedGivesByteIdenticalPcap) {
  for (const char* format : kFormats) {
    const std::vector<std::string> opts = {"--seed",          "42", "--count",    "3000",
                                           "--exporters",     "2",  "--sampling", "10",
                                           "--restart-every", "7"};
    const fs::path a = temp_file(std::string(format) + "_a.pcap");
    const fs::path b = temp_file(std::string(format) + "_b.pcap");
    const fs::path c = temp_file(std::string(format) + "_c.pcap");
    ASSERT_EQ(gen(format, a, opts).exit_code, 0) << format;
    ASSERT_EQ(gen(format, b, opts).exit_code, 0) << format;
    std::vector<std::string> other = opts;
    other[1] = "43";
    ASSERT_EQ(gen(format, c, other).exit_code, 0) << format;
    const std::string bytes = read_all(a);
    EXPECT_GT(bytes.size(), 10'000u) << format;
    EXPECT_EQ(bytes, read_all(b)) << format << ": the same seed must give the same bytes";
    EXPECT_NE(bytes, read_all(c)) << format << ": another seed must give other flows";
  }
}

TEST(GenFlows, OurDecoderReadsEverythingWithoutErrors) {
  for (const char* format : kFormats) {
    const fs::path pcap = temp_file(std::string(format) + "_decode.pcap");
    auto r = gen(format, pcap,
                 {"--seed", "5", "--count", "5001", "--exporters", "3", "--sampling", "100"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    DecodedCapture d = decode_capture(pcap);
    EXPECT_EQ(d.read_error, "");
    EXPECT_EQ(d.batch.size(), 5001u) << format;
    EXPECT_EQ(d.totals.dropped, 0u) << format;
    EXPECT_EQ(d.totals.sequence_gaps, 0u) << format;
    EXPECT_EQ(d.totals.restarts, 0u) << format;
    EXPECT_EQ(d.totals.unknown_elements, 0u) << format;
    if (std::string(format) == "sflow") {
      EXPECT_GT(d.totals.counter_samples, 0u);
    }
    // Three exporters (v9/IPFIX by source id too), sampling reported on every record.
    EXPECT_EQ(d.batch.get<FieldId::Sampling>(0), 100u) << format;
    // Sessions come as two one-way flows, the second the reverse of the first.
    EXPECT_EQ(d.batch.get<FieldId::SrcAddr>(0), d.batch.get<FieldId::DstAddr>(1)) << format;
    EXPECT_EQ(d.batch.get<FieldId::DstAddr>(0), d.batch.get<FieldId::SrcAddr>(1)) << format;
    EXPECT_EQ(d.batch.get<FieldId::SrcPort>(0), d.batch.get<FieldId::DstPort>(1)) << format;
  }
}

// What gen sends stitches back into two-sided sessions: the two directions mirror their
// interfaces and VLANs (in 100 / out 200 and back), as one router would export them.
TEST(GenFlows, DirectionsStitchIntoTwoSidedSessions) {
  for (const char* format : {"v9", "ipfix", "sflow"}) {
    const fs::path pcap = temp_file(std::string(format) + "_stitch.pcap");
    auto r = gen(format, pcap, {"--seed", "8", "--count", "4000"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    DecodedCapture d = decode_capture(pcap);
    session::Stitcher stitcher({});
    SessionBatch out;
    stitcher.add(d.batch, out);
    stitcher.flush(out);
    const session::StitchStats& st = stitcher.stats();
    EXPECT_EQ(st.sessions, 2000u) << format;
    EXPECT_EQ(st.sessions_two_sided, 2000u) << format;
    ASSERT_GT(out.size(), 0u);
    EXPECT_EQ(out.get<FieldId::InVlan>(0), 100) << format;  // the client's side
    EXPECT_EQ(out.get<FieldId::OutVlan>(0), 200) << format;
  }
}

TEST(GenFlows, RestartsAndWithdrawalsAreSeen) {
  const fs::path pcap = temp_file("restart.pcap");
  ASSERT_EQ(
      gen("ipfix", pcap,
          {"--seed", "9", "--count", "4000", "--restart-every", "10", "--withdraw-every", "15"})
          .exit_code,
      0);
  DecodedCapture d = decode_capture(pcap);
  EXPECT_EQ(d.batch.size(), 4000u);
  EXPECT_EQ(d.totals.dropped, 0u);
  EXPECT_GT(d.totals.withdrawals, 0u);
  const fs::path v9 = temp_file("restart_v9.pcap");
  ASSERT_EQ(gen("v9", v9, {"--seed", "9", "--count", "4000", "--restart-every", "10"}).exit_code,
            0);
  DecodedCapture d9 = decode_capture(v9);
  EXPECT_EQ(d9.batch.size(), 4000u);
  EXPECT_GT(d9.totals.restarts, 10u);
  EXPECT_EQ(d9.totals.dropped, 0u);
}

// Runs a shell command, returning its standard output.
std::string shell(const std::string& command) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

// Values in tshark -T fields output: fields are tab-separated, repeats comma-separated.
std::size_t count_values(const std::string& text) {
  std::size_t count = 0;
  bool in_value = false;
  for (char ch : text) {
    const bool sep = ch == '\t' || ch == ',' || ch == '\n';
    if (!sep && !in_value) ++count;
    in_value = !sep;
  }
  return count;
}

TEST(GenFlows, TsharkDecodesEveryVersion) {
  const char* tshark = "/usr/bin/tshark";
  if (::access(tshark, X_OK) != 0) GTEST_SKIP() << "tshark not installed at " << tshark;
  for (const char* format : kFormats) {
    const fs::path pcap = temp_file(std::string(format) + "_tshark.pcap");
    ASSERT_EQ(gen(format, pcap,
                  {"--seed", "11", "--count", "3001", "--exporters", "2", "--sampling", "10"})
                  .exit_code,
              0);
    const std::string file = pcap.string();
    const std::string bad = shell(std::string(tshark) + " -n -r " + file +
                                  " -Y '_ws.malformed || _ws.expert.severity >= \"error\"' "
                                  "2>/dev/null");
    EXPECT_EQ(bad, "") << format << ": tshark reports malformed or erroneous packets";
    const std::string undecoded =
        shell(std::string(tshark) + " -n -r " + file + " -Y '!cflow && !sflow' 2>/dev/null");
    EXPECT_EQ(undecoded, "") << format << ": packets tshark did not decode as flow export";
    if (std::string(format) == "sflow") {
      // sflow_245.sampletype: 1 flow sample, 2 counter sample.
      const std::string types =
          shell(std::string(tshark) + " -n -r " + file +
                " -T fields -e sflow_245.sampletype 2>/dev/null | tr ',' '\\n' | grep -c '^1$'");
      EXPECT_EQ(std::stoul(types), 3001u);
    } else {
      const std::string addrs = shell(std::string(tshark) + " -n -r " + file +
                                      " -T fields -e cflow.srcaddr -e cflow.srcaddrv6 2>/dev/null");
      EXPECT_EQ(count_values(addrs), 3001u) << format;
    }
  }
}

TEST(GenFlows, SendsEveryDatagramOverLoopback) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  const int rcvbuf = 8 << 20;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;  // the kernel picks a free port
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string to = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));

  // The receiver runs while gen sends; it stops at `expected` datagrams or a deadline.
  std::vector<std::string> received;
  std::atomic<std::size_t> expected{SIZE_MAX};
  std::thread receiver([&] {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    char buf[65536];
    while (received.size() < expected.load() && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n > 0) received.emplace_back(buf, static_cast<std::size_t>(n));
    }
  });
  const fs::path pcap = temp_file("sent.pcap");
  auto r = gen("v9", pcap,
               {"--to", to, "--rate", "0", "--seed", "3", "--count", "20000", "--exporters", "2"});
  const auto sent = udp_payloads(pcap);
  expected = sent.size();
  receiver.join();
  ::close(fd);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_GT(sent.size(), 500u);
  ASSERT_EQ(received.size(), sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) {
    ASSERT_EQ(received[i],
              std::string(reinterpret_cast<const char*>(sent[i].data()), sent[i].size()))
        << "datagram " << i;
  }
}

TEST(GenFlows, UsageErrors) {
  EXPECT_EQ(run_flowscope({"gen", "flows", "--count", "10"}).exit_code, 2);     // nowhere to go
  EXPECT_EQ(run_flowscope({"gen", "flows", "--pcap", "x.pcap"}).exit_code, 2);  // no end
  auto r = run_flowscope({"gen", "flows", "--pcap", "x.pcap", "--duration", "soon"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("30s"), std::string::npos) << r.err;
  EXPECT_EQ(run_flowscope({"gen", "flows", "--format", "v9", "--pcap", "x.pcap", "--count", "2",
                           "--withdraw-every", "3"})
                .exit_code,
            2);
  EXPECT_NE(run_flowscope({"gen", "flows", "--help"}).out.find("Examples:"), std::string::npos);
}

TEST(FlowModel, ZipfFavoursTheFirstRanks) {
  gen::Rng rng(1);
  gen::ZipfSampler zipf(1000, 1.1);
  std::vector<int> hits(1000);
  for (int i = 0; i < 100'000; ++i) ++hits[zipf.sample(rng)];
  EXPECT_GT(hits[0], hits[1]);
  EXPECT_GT(hits[1], hits[10]);
  EXPECT_GT(hits[10], hits[500]);
  // 1/H(1000, 1.1) of the draws go to rank 0: about 18%.
  EXPECT_NEAR(hits[0] / 100'000.0, 0.18, 0.02);
}

}  // namespace
}  // namespace flowscope::testing
