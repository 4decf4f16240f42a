// gen/flow_run.h: the settings checks and defaults of `gen flows`, and a run into a pcap.
#include "gen/flow_run.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "core/time.h"

namespace flowscope::gen {
namespace {

FlowRunSettings seeded() {
  FlowRunSettings s;
  s.pcap = "out.pcap";
  s.count = 100;
  s.seed = 7;
  return s;
}

TEST(FlowRun, SeededSettingsResolveToAFixedStartAndSeed) {
  std::vector<std::string> warnings;
  auto c = make_gen_config(seeded(), [&](const std::string& w) { warnings.push_back(w); });
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->format, decode::ExportFormat::NetflowV9);
  EXPECT_EQ(c->seed, 7u);
  EXPECT_EQ(format_time(c->start), "2026-01-01T00:00:00Z");
  EXPECT_DOUBLE_EQ(c->model.ipv6_share, 0.2);
  EXPECT_TRUE(warnings.empty());
}

TEST(FlowRun, RefusalsNameTheOptionAndV5WarnsAboutIpv6) {
  FlowRunSettings s = seeded();
  s.pcap.clear();
  auto none = make_gen_config(s, {});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message,
            "nothing to do: give --to HOST:PORT to send, --pcap FILE to write, or both");
  s = seeded();
  s.format = "ipfix";
  s.exporters = 251;
  EXPECT_EQ(make_gen_config(s, {}).error().message, "--exporters: 1 to 250");
  s = seeded();
  s.withdraw_every = 5;
  EXPECT_EQ(make_gen_config(s, {}).error().message,
            "--withdraw-every: template withdrawal exists in IPFIX only (--format ipfix)");
  s = seeded();
  s.format = "v5";
  EXPECT_DOUBLE_EQ(make_gen_config(s, {})->model.ipv6_share, 0.0);
  s.ipv6_share = 0.5;
  std::vector<std::string> warnings;
  ASSERT_TRUE(make_gen_config(s, [&](const std::string& w) { warnings.push_back(w); }));
  EXPECT_EQ(warnings, std::vector<std::string>{"NetFlow v5 cannot carry IPv6; those flows are "
                                               "not sent"});
  EXPECT_EQ(default_port(decode::ExportFormat::Ipfix), 4739);
  EXPECT_EQ(default_port(decode::ExportFormat::Sflow), 6343);
}

TEST(FlowRun, RunIntoAPcapCountsFlowsAndIsTheSameForTheSameSeed) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / "flowscope-flow-run-test";
  std::filesystem::create_directories(dir);
  std::uintmax_t sizes[2] = {};
  for (int run = 0; run < 2; ++run) {
    FlowRunSettings s = seeded();
    s.pcap = (dir / ("run" + std::to_string(run) + ".pcap")).string();
    auto c = make_gen_config(s, {});
    ASSERT_TRUE(c);
    auto pcap = PcapWriter::open(s.pcap);
    ASSERT_TRUE(pcap) << pcap.error().message;
    auto summary = run_flows(*c, nullptr, &*pcap, false, {});
    ASSERT_TRUE(summary) << summary.error().message;
    EXPECT_EQ(summary->flows, 100u);
    EXPECT_GT(summary->datagrams, 0u);
    EXPECT_GT(summary->bytes, summary->datagrams * 20);
    EXPECT_GT(summary->seconds, 0.0);
    sizes[run] = std::filesystem::file_size(s.pcap);
  }
  EXPECT_EQ(sizes[0], sizes[1]);
  EXPECT_GT(sizes[0], 24u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace flowscope::gen
