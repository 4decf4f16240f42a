// The probe library without the cli (probe/probe.h): tf_test1.pcap of the corpus through
// run_probe into sessions, the batches it hands on while it runs and at the end, the summary,
// a stop, scheduled settings and their hot reload, the session exporter and its errors.
// Expected figures are the capture's own on this file (31 frames, 10 sessions; session 7 is
// the HTTP exchange tshark shows with 7 frames client to server and 6 back).
#include "probe/probe.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "probe/settings_schedule.h"

#include "test_support.h"

namespace flowscope::probe {
namespace {

namespace fs = std::filesystem;

fs::path tf_test1() { return testing::corpus_root() / "tcp" / "tf_test1.pcap"; }

struct Row {
  std::uint64_t id = 0;
  std::uint64_t cln_packets = 0;
  std::uint64_t srv_packets = 0;
  std::uint16_t cln_port = 0;
  std::string srv_addr;
  std::uint8_t end_reason = 0;
};

// Collects every session handed on, and the size of each batch.
struct Collector {
  std::vector<Row> rows;
  std::vector<std::size_t> batches;
  SessionSink sink() {
    return [this](const SessionBatch& b) -> Result<void> {
      batches.push_back(b.size());
      for (std::size_t r = 0; r < b.size(); ++r) {
        rows.push_back({b.get<FieldId::SessionId>(r), b.get<FieldId::ClnPackets>(r),
                        b.get<FieldId::SrvPackets>(r), b.get<FieldId::ClnPort>(r),
                        b.get<FieldId::SrvAddr>(r).to_string(), b.get<FieldId::EndReason>(r)});
      }
      return {};
    };
  }
};

ProbeOptions file_options() {
  ProbeOptions o;
  o.files = {tf_test1().string()};
  return o;
}

class ProbeLibrary : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(tf_test1())) GTEST_SKIP() << "corpus not found at " << tf_test1();
  }
};

TEST_F(ProbeLibrary, MetersAPcapIntoSessionsAndCountsThem) {
  Collector c;
  auto s = run_probe(file_options(), c.sink());
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_EQ(s->inputs, 1u);
  EXPECT_EQ(s->meter.packets, 31u);
  EXPECT_EQ(s->meter.frame_bytes, 6527u);
  EXPECT_EQ(s->meter.metered, 31u);
  EXPECT_EQ(s->meter.metered_bytes, 6093u);
  EXPECT_EQ(s->meter.sessions, 10u);
  EXPECT_EQ(s->meter.closed_flush, 10u);  // default timeouts: every session open at the end
  EXPECT_EQ(s->sessions_handed_on, 10u);
  EXPECT_TRUE(s->read_error.empty());
  EXPECT_FALSE(s->exported.has_value());
  // Nothing closed while reading: one batch, at the end.
  EXPECT_EQ(c.batches, std::vector<std::size_t>{10});
  ASSERT_EQ(c.rows.size(), 10u);
  const Row& http = c.rows[6];
  EXPECT_EQ(http.id, 7u);
  EXPECT_EQ(http.cln_port, 50955);
  EXPECT_EQ(http.srv_addr, "74.125.19.104");
  EXPECT_EQ(http.cln_packets, 7u);
  EXPECT_EQ(http.srv_packets, 6u);
  EXPECT_EQ(http.end_reason, 4);  // forced: end of input
  EXPECT_EQ(summary_text(*s),
            "capture: 1 input(s), 31 packets (6527 bytes), 31 metered (6093 bytes), 0 not IP, "
            "0 malformed\n"
            "capture: 0 snapped, 0 tunneled, 0 fragments (0 unmatched), 0 out of time order, 0 "
            "kernel drops\n"
            "sessions: 10 (idle 0, active 0, fin 0, rst 0, port reuse 0, evicted 0, end of input "
            "10), ftp data tagged 0\n");
}

TEST_F(ProbeLibrary, HandsOnFullBatchesWhileReadingAndTheRestAtTheEnd) {
  ProbeOptions o = file_options();
  o.meter.idle_timeout = 1'000'000'000;  // 1 s: sessions 1-5 end idle while the file is read
  o.flush_rows = 2;
  Collector c;
  auto s = run_probe(o, c.sink());
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_EQ(s->meter.sessions, 10u);
  EXPECT_EQ(s->meter.closed_idle, 5u);
  EXPECT_EQ(s->meter.closed_flush, 5u);
  EXPECT_EQ(s->sessions_handed_on, 10u);
  ASSERT_EQ(c.rows.size(), 10u);
  ASSERT_GE(c.batches.size(), 2u);
  std::size_t total = 0;
  for (std::size_t i = 0; i + 1 < c.batches.size(); ++i) {
    EXPECT_GE(c.batches[i], 2u) << "batch " << i << " handed on before it was full";
    total += c.batches[i];
  }
  total += c.batches.back();
  EXPECT_EQ(total, 10u);
  // In session order: the five idle ones (reason 1) first, the five the end flushed (4) last,
  // and the last batch holds all five of those.
  for (std::size_t i = 0; i < 10; ++i) {
    EXPECT_EQ(c.rows[i].id, i + 1);
    EXPECT_EQ(c.rows[i].end_reason, i < 5 ? 1 : 4) << "session " << i + 1;
  }
  EXPECT_GE(c.batches.back(), 5u);
}

TEST_F(ProbeLibrary, CountAndStopEndTheRun) {
  ProbeOptions o = file_options();
  o.count = 10;
  Collector c;
  auto s = run_probe(o, c.sink());
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_EQ(s->meter.packets, 10u);
  EXPECT_EQ(s->meter.sessions, 7u);
  EXPECT_EQ(c.rows.size(), 7u);

  // A stop before the run: a file is not drained (only a live ring is), nothing is read.
  StopFlag stop = 1;
  ProbeOptions stopped = file_options();
  stopped.stop = &stop;
  Collector none;
  auto t = run_probe(stopped, none.sink());
  ASSERT_TRUE(t.has_value()) << t.error().message;
  EXPECT_EQ(t->inputs, 1u);
  EXPECT_EQ(t->meter.packets, 0u);
  EXPECT_EQ(t->meter.sessions, 0u);
  EXPECT_TRUE(none.batches.empty());
}

TEST_F(ProbeLibrary, ScheduledFilterTakesEffectAtItsTime) {
  auto config = capture::parse_probe_config(
      "name = \"replay\"\n"
      "[[scheduled]]\n"
      "start_at = \"2008-10-06T17:54:54.6Z\"\n"
      "filter = \"tcp\"\n"
      "[[scheduled]]\n"
      "start_at = \"2030-01-01T00:00:00Z\"\n"
      "idle_timeout = 5\n",
      "replay.toml");
  ASSERT_TRUE(config.has_value()) << config.error().message;
  ProbeOptions o = file_options();
  o.config_path = "";  // blocks given directly: no file to reload
  o.config_name = "replay";
  o.scheduled = config->scheduled;
  std::vector<std::string> notes;
  o.on_note = [&](const std::string& line) { notes.push_back(line); };
  auto s = run_probe(o, {});
  ASSERT_TRUE(s.has_value()) << s.error().message;
  // tshark: 7 frames before 17:54:54.6, then 20 TCP frames; 4 UDP and 1 ICMPv6 frame after it
  // are filtered out.
  EXPECT_EQ(s->meter.packets, 27u);
  EXPECT_EQ(s->scheduled_applied, 1u);
  EXPECT_EQ(s->scheduled_pending, 1u);
  EXPECT_EQ(notes, std::vector<std::string>{"config: replay: settings of line 2 in effect from "
                                            "2008-10-06T17:54:54.600Z"});
}

TEST(SettingsSchedule, ReloadPicksUpNewBlocksButNeverAppliesOneTwice) {
  const fs::path path =
      fs::temp_directory_path() / ("flowscope_schedule_" + std::to_string(::getpid()) + ".toml");
  const std::string first = "[[scheduled]]\nstart_at = \"2026-01-01T00:00:00Z\"\nmax_flows = 10\n";
  std::ofstream(path) << first;
  auto loaded = capture::load_probe_config(path.string());
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
  SettingsSchedule schedule(path.string(), "edge", loaded->scheduled);
  const std::int64_t jan1 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z in ms
  EXPECT_FALSE(schedule.next_due(jan1 - 1).has_value());
  auto block = schedule.next_due(jan1);
  ASSERT_TRUE(block.has_value());
  EXPECT_EQ(block->settings.max_flows, 10u);
  EXPECT_FALSE(schedule.pending());

  // The file gains a later block (and still holds the applied one): only the new one waits.
  std::ofstream(path) << first << "[[scheduled]]\nstart_at = \"2026-01-02T00:00:00Z\"\n"
                      << "filter = \"udp\"\n";
  fs::last_write_time(path, fs::last_write_time(path) + std::chrono::seconds(5));
  const std::int64_t wall = 2'000'000'000'000'000'000;
  EXPECT_FALSE(schedule.reload(wall).has_value());
  EXPECT_EQ(schedule.pending_count(), 1u);
  EXPECT_FALSE(schedule.next_due(jan1 + 1000).has_value());
  auto next = schedule.next_due(jan1 + 86'400'000);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->settings.filter, "udp");
  EXPECT_EQ(schedule.applied(), 2u);

  // A broken file is a warning; the running schedule stays.
  std::ofstream(path) << "idle_timeout = \n";
  fs::last_write_time(path, fs::last_write_time(path) + std::chrono::seconds(10));
  EXPECT_FALSE(schedule.reload(wall + 1).has_value());  // checked at most once a second
  auto warning = schedule.reload(wall + 1'000'000'000);
  ASSERT_TRUE(warning.has_value());
  EXPECT_NE(warning->find("keeping the running configuration"), std::string::npos) << *warning;
  EXPECT_EQ(schedule.applied(), 2u);
  fs::remove(path);
}

TEST_F(ProbeLibrary, ExportsTheSessionsAsTwoOneWayFlowsEach) {
  const fs::path pcap =
      fs::temp_directory_path() / ("flowscope_probe_export_" + std::to_string(::getpid()));
  ProbeOptions o = file_options();
  o.exporter = ExportOptions{decode::ExportFormat::NetflowV9, "", pcap.string(), 1};
  auto s = run_probe(o, {});
  ASSERT_TRUE(s.has_value()) << s.error().message;
  ASSERT_TRUE(s->exported.has_value());
  // 10 sessions, 5 of which had an answer: 15 one-way flows, in one datagram.
  EXPECT_EQ(s->exported->flows, 15u);
  EXPECT_EQ(s->exported->datagrams, 1u);
  EXPECT_EQ(s->exported->skipped, 0u);
  EXPECT_EQ(s->exported->destination, "-");
  EXPECT_NE(summary_text(*s).find("export: 15 flows in 1 datagrams to - (0 skipped: IPv6 in v5)"),
            std::string::npos);
  EXPECT_GT(fs::file_size(pcap), 24u + 16u + 14u + 20u + 8u);  // headers and one datagram

  // NetFlow v5 has no IPv6: the one IPv6 flow is skipped.
  o.exporter->format = decode::ExportFormat::NetflowV5;
  auto v5 = run_probe(o, {});
  ASSERT_TRUE(v5.has_value()) << v5.error().message;
  EXPECT_EQ(v5->exported->skipped, 1u);
  fs::remove(pcap);
}

TEST_F(ProbeLibrary, SettingErrorsAreInvalidArgumentOthersAreNot) {
  ProbeOptions bad_filter = file_options();
  bad_filter.filter = "tcp port";
  auto r = run_probe(bad_filter, {});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(r.error().message.find("filter \"tcp port\""), std::string::npos);

  ProbeOptions missing;
  missing.files = {"/nonexistent.pcap"};
  auto m = run_probe(missing, {});
  ASSERT_FALSE(m.has_value());
  EXPECT_NE(m.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(m.error().message.find("/nonexistent.pcap"), std::string::npos);

  ProbeOptions bad_export = file_options();
  bad_export.exporter = ExportOptions{decode::ExportFormat::Ipfix, "", "/nonexistent/x.pcap", 1};
  auto e = run_probe(bad_export, {});
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().code, ErrorCode::Io);
  EXPECT_EQ(e.error().message.rfind("export: /nonexistent/x.pcap", 0), 0u) << e.error().message;

  EXPECT_EQ(expand_inputs({"/nonexistent/*.pcap"}).error().code, ErrorCode::InvalidArgument);
  auto parts = expand_inputs({(tf_test1().parent_path() / "tf_test1-part*.pcap").string(), "-"});
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(parts->size(), 3u);
  EXPECT_EQ(parts->back(), "-");
  EXPECT_EQ(seconds_to_ns(0, "idle_timeout").error().message,
            "idle_timeout: give a positive number of seconds");
  EXPECT_EQ(*seconds_to_ns(1.5, "x"), 1'500'000'000);
}

}  // namespace
}  // namespace flowscope::probe
